import { Flags } from '@oclif/core';
import { NodeCommand } from '../../cli/base';
import { clock, shortId } from '../../cli/format';
import { streamMonitor } from '../../cli/monitor';
import { Recorder } from '../../cli/record';
import type { WireMessage } from '../../network/link/protocol';

export default class MonitorNode extends NodeCommand {
  static override description = 'Live view of a node: itself and its peers, then tunnels opening and closing and peers coming and going';
  static override flags = {
    json: Flags.boolean({ description: 'print each message as one JSON line' }),
    record: Flags.string({ description: 'also record the stream to FILE, timestamped JSON lines (see booster plot)' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(MonitorNode);
    const node = this.nodeAddress(flags.node);
    const recorder = flags.record ? await Recorder.open(flags.record, node, ['node']) : undefined;
    const client = await this.openClient(node, flags.timeout).catch(async (err: Error) => {
      await recorder?.close();
      throw err;
    });
    try {
      await streamMonitor(this, client, 'node', render, flags.json, recorder && ((m) => recorder.write(m)));
    } finally {
      await recorder?.close();
    }
  }
}

function render(m: WireMessage): string | undefined {
  switch (m.kind) {
    case 'node-status': {
      const load = m.node.tunnels.reduce((s, t) => s + t.copies, 0);
      return `${clock()} node ${shortId(m.node.id)} booster ${m.node.baddr} proxy ${m.node.paddr} ${m.node.active ? 'active' : 'inactive'} workload ${load}`;
    }
    case 'proxy-update':
      return `${clock()} ${m.operation === 'added' ? '+' : '-'} tunnel ${m.target} on ${shortId(m.nodeId)}`;
    case 'network-update':
      return `${clock()} peer ${m.operation === 'added' ? 'added' : 'removed'}: ${shortId(m.node.id)} ${m.node.baddr}${m.node.paddr ? ` proxy ${m.node.paddr}` : ''}`;
    case 'source-health': {
      const what = m.health === 'healthy' ? 'is back' : m.health === 'down' ? 'is down' : m.health === 'ejected' ? 'was ejected' : `is ${m.health}`;
      return `${clock()} source ${m.label} ${what}: ${m.reason}`;
    }
    default:
      return undefined;
  }
}
