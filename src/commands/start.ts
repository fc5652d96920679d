import { Flags } from '@oclif/core';
import type { DiscoverySettings } from '../api/settings';
import { DEFAULT_SETTINGS } from '../core/config';
import { keyLocationFlags } from '../cli/key-flags';
import { onHangup, onNextSignal, startNode, untilSignal } from '../cli/runtime';
import { BoosterCommand } from '../cli/base';
import { createLogger, LOG_FORMATS, LOG_LEVELS, type LogFormat } from '../kernel/log-output';
import type { Logger, LogLevel } from '../api/logger';

export default class Start extends BoosterCommand {
  static override description = `Start a booster node: a proxy (SOCKS5, SOCKS4/4a and HTTP on one port) and a booster endpoint.

Flags override the config file; the config file overrides the defaults. Logs go to stderr as text lines, or to --log-file, and as one pino JSON object per line with --log-format json.
With --log-file, stderr keeps only the lines about the process itself (cannot start, stopping, stopped), which are logged in the file too.
SIGINT/SIGTERM stop accepting, let open tunnels drain (drainTimeoutMs) and exit 0.

The network key comes from --key-file, else BOOSTER_KEY, else the config file ("key" or "keyFile"), else DIR/network.key; without any, a new key is made there (see "booster key show --qr").`;

  static override examples = [
    '<%= config.bin %> start',
    '<%= config.bin %> start --pport 1081 --bport 4885 --policy round-robin',
    '<%= config.bin %> start --interface wlan0 --interface usb0',
    '<%= config.bin %> start --config booster.json --verbose',
    '<%= config.bin %> start --allow-clients 192.168.1.0/24 --allow-legacy-peers 192.168.1.20',
    '<%= config.bin %> start --auto-connect',
    '<%= config.bin %> start --metrics 9464 --http-api 127.0.0.1:8080',
  ];

  static override flags = {
    pport: Flags.integer({ description: `proxy port [default: ${DEFAULT_SETTINGS.pport}]`, min: 0, max: 65535 }),
    bport: Flags.integer({ description: `booster endpoint port [default: ${DEFAULT_SETTINGS.bport}]`, min: 0, max: 65535 }),
    bind: Flags.string({ description: `address the proxy and endpoint listen on [default: ${DEFAULT_SETTINGS.bind}]` }),
    policy: Flags.string({ description: `balancing policy [default: ${DEFAULT_SETTINGS.policy}]` }),
    interface: Flags.string({
      description: 'local interface (name or address, or "auto") to use as a source; repeatable. Default: the direct route only',
      multiple: true,
    }),
    heartbeat: Flags.integer({ description: `heartbeat period in ms [default: ${DEFAULT_SETTINGS.heartbeatMs}]`, min: 1 }),
    config: Flags.file({ char: 'c', description: 'JSON config file (keys as in the README)', exists: true }),
    ...keyLocationFlags('network key file (instead of BOOSTER_KEY, the config file, or DIR/network.key)'),
    'allow-legacy-peers': Flags.string({
      description: 'CIDR or address of 0.3 nodes (which cannot hold the key) allowed to peer with this node; repeatable or comma-separated',
      multiple: true,
      delimiter: ',',
    }),
    'allow-clients': Flags.string({
      description: 'CIDR or address of LAN devices (a TV, a console) allowed to use the proxy without the key; repeatable or comma-separated',
      multiple: true,
      delimiter: ',',
    }),
    announce: Flags.boolean({
      description:
        'announce this node on the LAN over mDNS (_booster._tcp, its ports and a key hint; never the key), when it listens on a non-loopback address [default: true]',
      allowNo: true,
      env: 'BOOSTER_ANNOUNCE',
    }),
    'auto-connect': Flags.boolean({ description: 'wire every node found on the LAN that holds the same network key (see "booster discover")', allowNo: true }),
    'open-proxy': Flags.boolean({ description: "serve the proxy to anyone who reaches it (never to this node's own addresses)", allowNo: true }),
    metrics: Flags.string({
      description:
        'serve Prometheus metrics at http://[HOST:]PORT/metrics (HOST defaults to 127.0.0.1; off loopback, requests need the bearer token of "booster key show --http-token")',
      helpValue: '[HOST:]PORT',
    }),
    'http-api': Flags.string({
      description: 'serve the read-only HTTP JSON API (/health, /sources, /peers, /tunnels, /policy) at [HOST:]PORT, with the same protection as --metrics',
      helpValue: '[HOST:]PORT',
    }),
    dashboard: Flags.string({
      description: 'serve the live web dashboard at http://[HOST:]PORT/ (loopback only by default; off loopback, log in with "booster key show --http-token")',
      helpValue: '[HOST:]PORT',
    }),
    verbose: Flags.boolean({ char: 'v', description: 'log debug details (same as --log-level debug)' }),
    'log-level': Flags.string({ description: 'least severe level logged [default: info]', options: [...LOG_LEVELS] }),
    'log-format': Flags.string({
      description: 'text (human-readable lines) or json (one pino JSON object per line) [default: text]',
      options: [...LOG_FORMATS],
    }),
    'log-file': Flags.string({ description: 'append log lines to FILE (created 0600; its directory must exist) instead of stderr', helpValue: 'FILE' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Start);
    const logLevel = (flags['log-level'] as LogLevel | undefined) ?? (flags.verbose ? 'debug' : 'info');
    const format = (flags['log-format'] ?? 'text') as LogFormat;
    let logger: Logger;
    try {
      logger = createLogger({ level: logLevel, format, file: flags['log-file'] });
    } catch (err) {
      this.logToStderr(`booster: cannot start: ${(err as Error).message}`);
      return this.exit(1);
    }
    // The process's own lines go to whoever launched it (a terminal, the journal), and into a log file too;
    // JSON on stderr stays pure JSON, so there they are log records only.
    const jsonOnStderr = format === 'json' && flags['log-file'] === undefined;
    const say = (line: string, level: 'info' | 'error' = 'info') => {
      if (!jsonOnStderr) process.stderr.write(`${line}\n`);
      if (jsonOnStderr || flags['log-file'] !== undefined) logger[level](line);
    };
    const request = {
      configFile: flags.config,
      keyFile: flags['key-file'],
      logger,
      overrides: {
        pport: flags.pport,
        bport: flags.bport,
        bind: flags.bind,
        policy: flags.policy,
        interfaces: flags.interface,
        heartbeatMs: flags.heartbeat,
        dataDir: flags['data-dir'],
        allowLegacyPeers: flags['allow-legacy-peers'],
        allowClients: flags['allow-clients'],
        openProxy: flags['open-proxy'],
        // A partial layer: resolveSettings fills what the flags leave unset.
        discovery: { announce: flags.announce, autoConnect: flags['auto-connect'] } as DiscoverySettings,
        // Merged per plugin with the config file's options (resolveSettings).
        plugins: { '@booster/plugin-http': { metrics: flags.metrics, api: flags['http-api'], dashboard: flags.dashboard } },
      },
    };
    const signal = untilSignal();
    // SIGHUP re-reads the config file (the node logs what changed, or why nothing did); it never stops the process.
    let running: { reload(): Promise<string> } | undefined;
    const hangup = onHangup(() => void running?.reload().catch(() => undefined));
    for (let restarts = 0; ; restarts++) {
      let node;
      try {
        node = await startNode(this.config, request, restarts > 0);
      } catch (err) {
        say(`booster: cannot start: ${err instanceof Error ? err.message : String(err)}`, 'error');
        return this.exit(1);
      }
      running = node;
      const ctrl = new Promise<'stop' | 'restart'>((resolve) => node.onCtrl(resolve));
      const reason = await Promise.race([signal, ctrl]);
      const open = node.tunnels.size;
      const draining = open > 0 ? `; draining ${open} open tunnel${open > 1 ? 's' : ''} for up to ${node.settings.drainTimeoutMs} ms` : '';
      const restart = reason === 'restart';
      // While tunnels drain, a second Ctrl-C (or SIGTERM) means "now".
      const impatient = restart
        ? undefined
        : onNextSignal((second) => {
            say(`${second} again: exiting now, cutting open tunnels`);
            process.exit(130);
          });
      say(`${restart ? 'restarting' : `stopping (${reason})`}${draining}${open > 0 && !restart ? ' (Ctrl-C again to exit now)' : ''}`);
      const started = Date.now();
      running = undefined;
      await node.stop();
      impatient?.dispose();
      if (!restart) {
        say(`stopped in ${Date.now() - started} ms`);
        break;
      }
    }
    hangup.dispose();
    this.exit(0);
  }
}
