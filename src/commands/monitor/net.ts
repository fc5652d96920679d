import { Flags } from '@oclif/core';
import { NodeCommand } from '../../cli/base';
import { bytes, clock } from '../../cli/format';
import { streamMonitor } from '../../cli/monitor';
import type { WireMessage } from '../../network/protocol';

export default class MonitorNet extends NodeCommand {
  static override description = 'Live throughput of a node: bytes per second downloaded and uploaded through its proxy';
  static override flags = {
    json: Flags.boolean({ description: 'print each message as one JSON line' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(MonitorNet);
    const client = await this.openClient(this.nodeAddress(flags.node), flags.timeout);
    let down: { tot: number; bandwidth: number } | undefined;
    await streamMonitor(this, client, 'net', (m: WireMessage) => {
      if (m.kind !== 'bandwidth') return undefined;
      if (m.type === 'download') {
        down = m;
        return undefined;
      }
      const line = `${clock()} ↓ ${bytes(down?.bandwidth ?? 0)}/s (total ${bytes(down?.tot ?? 0)})   ↑ ${bytes(m.bandwidth)}/s (total ${bytes(m.tot)})`;
      down = undefined;
      return line;
    }, flags.json);
  }
}
