import { Flags } from '@oclif/core';
import { BandwidthPairer } from '../../cli/bandwidth-pairs';
import { NodeCommand } from '../../cli/base';
import { bytes, clock } from '../../cli/format';
import { streamMonitor } from '../../cli/monitor';
import { Recorder } from '../../cli/record';
import type { WireMessage } from '../../network/link/protocol';

export default class MonitorNet extends NodeCommand {
  static override description = 'Live throughput of a node: bytes per second downloaded and uploaded through its proxy';
  static override flags = {
    json: Flags.boolean({ description: 'print each message as one JSON line' }),
    record: Flags.string({ description: 'also record the stream to FILE, timestamped JSON lines (see booster plot)' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(MonitorNet);
    const node = this.nodeAddress(flags.node);
    const recorder = flags.record ? await Recorder.open(flags.record, node, ['net']) : undefined;
    const client = await this.openClient(node, flags.timeout).catch(async (err: Error) => {
      await recorder?.close();
      throw err;
    });
    const pairs = new BandwidthPairer();
    try {
      await streamMonitor(
        this,
        client,
        'net',
        (m: WireMessage) => {
          if (m.kind !== 'bandwidth') return undefined;
          const row = pairs.add(m);
          return (
            row && `${clock()} ↓ ${bytes(row.down.bandwidth)}/s (total ${bytes(row.down.tot)})   ↑ ${bytes(row.up.bandwidth)}/s (total ${bytes(row.up.tot)})`
          );
        },
        flags.json,
        recorder && ((m) => recorder.write(m)),
      );
    } finally {
      await recorder?.close();
    }
  }
}
