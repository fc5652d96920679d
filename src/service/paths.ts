import * as os from 'node:os';
import * as path from 'node:path';
import { UNIT_NAME, type ServiceScope } from './unit';

/** The directory systemd reads this scope's units from: $XDG_CONFIG_HOME/systemd/user (else ~/.config/…), or /etc/systemd/system. */
function unitDir(scope: ServiceScope, env: NodeJS.ProcessEnv = process.env, home = os.homedir()): string {
  if (scope === 'system') return '/etc/systemd/system';
  return path.join(env.XDG_CONFIG_HOME || path.join(home, '.config'), 'systemd', 'user');
}

export function unitPath(scope: ServiceScope, env?: NodeJS.ProcessEnv, home?: string): string {
  return path.join(unitDir(scope, env, home), UNIT_NAME);
}

/** The link `systemctl enable` makes; while it exists, the unit is enabled. */
export function enabledLink(scope: ServiceScope, env?: NodeJS.ProcessEnv, home?: string): string {
  return path.join(unitDir(scope, env, home), scope === 'system' ? 'multi-user.target.wants' : 'default.target.wants', UNIT_NAME);
}
