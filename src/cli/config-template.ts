import { DEFAULT_SETTINGS } from '../core/config';

/**
 * The starter config `booster config init` writes: JSON with comments (the
 * node reads comments and trailing commas), every value the default, so the
 * file changes nothing until edited.
 */
export function starterConfig(): string {
  const d = DEFAULT_SETTINGS;
  return `// booster config file: JSON with comments. "booster start" reads it with
// --config FILE, or as DATA_DIR/config.json without --config.
// Flags on the command line override it; "booster config show" prints what
// a node would run with. Unknown keys are refused, to catch typos.
{
  // Proxy port (SOCKS5, SOCKS4/4a and HTTP on one port) and booster endpoint port.
  "pport": ${d.pport},
  "bport": ${d.bport},
  // Where both listen: "127.0.0.1" keeps them to this machine.
  "bind": "${d.bind}",

  // Balancing policy ("booster policy list"). "booster policy use NAME" saves
  // its choice in the state file, which overrides this line until a reload
  // sees it changed here.
  "policy": "${d.policy}",

  // Local interfaces to use as sources, by name or address, or ["auto"].
  "interfaces": [],

  // Nodes to wire at start, as "HOST:PORT" or {"address": "HOST:PORT", "name": "phone"}.
  // Peers added with "booster connect" are kept in the state file instead.
  "peers": [
    // {"address": "192.168.1.20:4884", "name": "phone"},
  ],

  // Routing rules (README "Balancing policies and rules"), e.g.
  // {"type": "reserve", "source": "direct", "hosts": ["*.bank.example"]}
  "rules": [],

  // LAN clients allowed to use the proxy without the network key, as CIDRs.
  "allowClients": [],

  // Announce this node on the LAN (mDNS); wire nodes found there that hold the same key.
  "discovery": { "announce": ${d.discovery.announce}, "autoConnect": ${d.discovery.autoConnect} },

  // Limits (README "Limits"); only the ones you change are needed.
  "limits": {
    // "maxPeers": ${d.limits.maxPeers},
    // "maxRules": ${d.limits.maxRules},
  },

  // The network key: better left in DATA_DIR/network.key ("booster key new").
  // "keyFile": "network.key",
}
`;
}
