/**
 * systemd units for `booster service install`: pure functions from options to
 * text, so what gets installed is unit-tested without systemd.
 */

export type ServiceScope = 'user' | 'system';

export interface UnitOptions {
  readonly scope: ServiceScope;
  /** Absolute path of the node binary (systemd's PATH may not hold nvm's or NodeSource's node). */
  readonly node: string;
  /** Absolute path of booster's bin/run. */
  readonly bin: string;
  /** Flags after `start`. A system unit adds --data-dir for its StateDirectory. */
  readonly startArgs: readonly string[];
  /** System units: run as this existing user instead of a DynamicUser. */
  readonly runAs?: string;
  /** How long systemd waits after SIGTERM: the node drains open tunnels first. */
  readonly stopTimeoutSec: number;
}

/** Where a system unit keeps the node's state (the network key, peers, policy): StateDirectory=booster. */
const SYSTEM_DATA_DIR = '/var/lib/booster';
export const UNIT_NAME = 'booster.service';

/** A unit-file argument that cannot be written safely; says which. */
export class UnitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnitError';
  }
}

/**
 * One ExecStart word. Plain words go as they are; others are double-quoted
 * with \ and " escaped. systemd expands %specifiers and $VARIABLES even inside
 * quotes, so % and $ are doubled. A control character (a newline would end
 * the directive) cannot be written and is refused.
 */
export function execArg(arg: string): string {
  if (/[\x00-\x1f\x7f]/.test(arg)) throw new UnitError(`cannot put ${JSON.stringify(arg)} in a unit file: it holds a control character`);
  const escaped = arg.replace(/%/g, '%%').replace(/\$/g, '$$$$');
  if (/^[A-Za-z0-9_@+=:,./%$-]+$/.test(arg) && arg.length > 0) return escaped;
  return `"${escaped.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** A user name for User=: what useradd accepts, nothing that could break the line. */
function checkUserName(name: string): string {
  if (!/^[a-z_][a-z0-9_.-]{0,31}\$?$/i.test(name)) throw new UnitError(`"${name.slice(0, 40)}" is not a valid user name for User=`);
  return name;
}

/** True when a path is under a home directory: a system unit then needs ProtectHome=read-only to run it. */
function underHome(p: string): boolean {
  return /^\/(home|root)(\/|$)/.test(p);
}

export function renderUnit(o: UnitOptions): string {
  if (!o.node.startsWith('/') || !o.bin.startsWith('/')) throw new UnitError("the node binary and booster's bin/run must be absolute paths");
  const system = o.scope === 'system';
  const args = system ? [...o.startArgs, '--data-dir', SYSTEM_DATA_DIR] : [...o.startArgs];
  const exec = [o.node, o.bin, 'start', ...args].map(execArg).join(' ');
  const lines = [
    '# Written by "booster service install"; "booster service uninstall" removes it. See README, "Running as a service".',
    '[Unit]',
    'Description=booster, a peer-to-peer network interface balancer',
    // A user manager has no network-online.target; a system unit waits for the links it balances.
    ...(system ? ['Wants=network-online.target', 'After=network-online.target'] : []),
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${exec}`,
    // SIGHUP re-reads the config file without dropping tunnels: "systemctl reload booster".
    'ExecReload=/bin/kill -HUP $MAINPID',
    // SIGTERM drains open tunnels and exits 0, so "stop" is never a failure; a crash is restarted.
    'Restart=on-failure',
    'RestartSec=5s',
    `TimeoutStopSec=${Math.max(1, Math.ceil(o.stopTimeoutSec))}`,
    'UMask=0077',
    'NoNewPrivileges=yes',
  ];
  if (system) {
    const code = [o.node, o.bin, ...o.startArgs.filter((a) => a.startsWith('/'))];
    lines.push(
      ...(o.runAs ? [`User=${checkUserName(o.runAs)}`] : ['DynamicUser=yes']),
      `StateDirectory=booster`,
      'StateDirectoryMode=0700',
      // The whole file system is read-only but the state directory; booster writes nowhere else.
      'ProtectSystem=strict',
      `ProtectHome=${code.some(underHome) ? 'read-only' : 'yes'}`,
      'PrivateTmp=yes',
      'PrivateDevices=yes',
      'ProtectKernelTunables=yes',
      'ProtectKernelModules=yes',
      'ProtectKernelLogs=yes',
      'ProtectControlGroups=yes',
      'ProtectClock=yes',
      'ProtectHostname=yes',
      // IP for the proxy, peers and mDNS; netlink to list interfaces; unix for the journal.
      'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK',
      'RestrictNamespaces=yes',
      'RestrictRealtime=yes',
      'RestrictSUIDSGID=yes',
      'LockPersonality=yes',
      'SystemCallArchitectures=native',
      'CapabilityBoundingSet=',
      // No MemoryDenyWriteExecute: V8's JIT needs writable code pages.
    );
  }
  lines.push('', '[Install]', `WantedBy=${system ? 'multi-user.target' : 'default.target'}`, '');
  return lines.join('\n');
}

/** The `systemctl` calls that follow an install (enable) or precede an uninstall (disable). */
export function systemctlCommands(scope: ServiceScope, action: 'enable' | 'disable'): string[][] {
  const base = scope === 'user' ? ['systemctl', '--user'] : ['systemctl'];
  return action === 'enable'
    ? [
        [...base, 'daemon-reload'],
        [...base, 'enable', '--now', 'booster'],
      ]
    : [
        [...base, 'disable', '--now', 'booster'],
        [...base, 'daemon-reload'],
      ];
}

/** A shell line for the user to copy: `a && b`. */
export function shellLine(commands: readonly (readonly string[])[]): string {
  return commands.map((c) => c.join(' ')).join(' && ');
}
