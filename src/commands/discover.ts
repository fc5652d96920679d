import { Flags } from '@oclif/core';
import { BoosterCommand } from '../cli/base';
import { keyLocationFlags, stderr } from '../cli/key-flags';
import { findNetworkKey } from '../cli/runtime';
import { ConsoleLogger } from '../kernel/logger';
import { browseLan } from '../discovery/discovery';
import { formatHostPort } from '../network/link/errors';
import { nodeIdOf } from '../network/link/protocol';

export interface DiscoveredView {
  /** The id a node that wires it uses (status, disconnect): sha1(address + bport + pport). */
  readonly id: string;
  readonly address: string;
  readonly bport: number;
  readonly pport: number;
  /** The id it announces for itself (0.3 sense, from its ports). */
  readonly announcedId: string;
  readonly instance: string;
  /** Whether its hint says it holds our network key; null without a key here. */
  readonly holdsKey: boolean | null;
}

export default class Discover extends BoosterCommand {
  static override description = `List the booster nodes announcing themselves on the LAN (mDNS/DNS-SD, _booster._tcp).

Looks on every IPv4 interface for --timeout ms. With the network key (BOOSTER_KEY, --key-file, or DIR/network.key), says which nodes hold the same key; the hint is only a hint, wiring ("booster connect") authenticates.`;

  static override examples = ['<%= config.bin %> discover', '<%= config.bin %> discover --timeout 5000 --json'];
  static override enableJsonFlag = true;

  static override flags = {
    timeout: Flags.integer({ description: 'how long to listen for answers, in ms', default: 3000, min: 100, max: 60_000 }),
    ...keyLocationFlags('network key file, to tell which nodes hold it [default: $BOOSTER_KEY, then DIR/network.key]'),
    verbose: Flags.boolean({ char: 'v', description: 'log what is received and ignored' }),
  };

  async run(): Promise<DiscoveredView[]> {
    const { flags } = await this.parse(Discover);
    const key = findNetworkKey({ keyFile: flags['key-file'], dataDir: flags['data-dir'] }, (w) => stderr(`booster: warning: ${w}`));
    const log = new ConsoleLogger(flags.verbose ? 'debug' : 'warn');
    const { nodes, on } = await browseLan({ timeoutMs: flags.timeout, key, log });
    const views: DiscoveredView[] = nodes
      .map((n) => ({
        id: nodeIdOf(n.address, n.bport, n.pport),
        address: n.address,
        bport: n.bport,
        pport: n.pport,
        announcedId: n.id,
        instance: n.instance,
        holdsKey: n.holdsKey ?? null,
      }))
      .sort((a, b) => a.address.localeCompare(b.address, 'en', { numeric: true }) || a.bport - b.bport);
    if (views.length === 0)
      this.log(`no booster node answered within ${flags.timeout} ms (looked on ${on.map((a) => `${a.interface} ${a.address}`).join(', ')})`);
    for (const v of views) {
      const network = v.holdsKey === null ? 'key unknown (no network key here)' : v.holdsKey ? 'same network key' : 'another network';
      this.log(`${v.id}  booster ${formatHostPort(v.address, v.bport)}  proxy ${formatHostPort(v.address, v.pport)}  ${network}`);
    }
    return views;
  }
}
