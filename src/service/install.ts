import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomicSync } from '../kernel/atomic-file';
import { enabledLink, unitPath } from './paths';
import { systemctlCommands, shellLine, type ServiceScope } from './unit';

/** Installing or removing the unit failed; says why and what to do. */
export class ServiceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ServiceError';
  }
}

function why(err: unknown, scope: ServiceScope): string {
  const e = err as NodeJS.ErrnoException;
  if ((e.code === 'EACCES' || e.code === 'EPERM') && scope === 'system')
    return 'permission denied (a system unit needs root: run it with sudo, or install a --user unit)';
  return e.code === 'EACCES' ? 'permission denied' : e.message;
}

/**
 * Writes the unit (0644, as systemd's own are; it holds no secret) and its
 * directory. An existing unit is kept unless `force`: it may be a hand-edited one.
 */
export function writeUnit(scope: ServiceScope, text: string, force: boolean, file = unitPath(scope)): string {
  if (fs.existsSync(file) && !force) throw new ServiceError(`${file} already exists; pass --force to replace it`);
  try {
    // systemd never reads half a unit.
    writeFileAtomicSync(file, text, { mode: 0o644, dirMode: null });
  } catch (err) {
    throw new ServiceError(`cannot write ${file}: ${why(err, scope)}`);
  }
  return file;
}

/**
 * Removes the unit. An enabled unit is refused (unless the caller disabled it
 * first): removing the file under a running service leaves systemd with a
 * dangling link and a unit it can no longer stop by name cleanly.
 */
export function removeUnit(scope: ServiceScope, file = unitPath(scope), link = enabledLink(scope)): string {
  if (!fs.existsSync(file)) throw new ServiceError(`no booster unit at ${file}; nothing to remove`);
  if (fs.existsSync(link) || isSymlink(link)) {
    throw new ServiceError(
      `booster.service is still enabled (${link}); run "${shellLine(systemctlCommands(scope, 'disable').slice(0, 1))}" first, or pass --disable`,
    );
  }
  try {
    fs.unlinkSync(file);
  } catch (err) {
    throw new ServiceError(`cannot remove ${file}: ${why(err, scope)}`);
  }
  return file;
}

function isSymlink(p: string): boolean {
  try {
    return fs.lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

/** The systemctl binary on PATH, if any (a container, Termux and macOS have none). */
export function findSystemctl(env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, 'systemctl');
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Runs systemctl calls in order, stopping at the first failure with its own message. */
export function runSystemctl(commands: readonly (readonly string[])[], systemctl: string, timeoutMs = 60_000): void {
  for (const [, ...args] of commands) {
    try {
      execFileSync(systemctl, args, { stdio: ['ignore', 'inherit', 'pipe'], timeout: timeoutMs });
    } catch (err) {
      const e = err as { stderr?: Buffer; message: string };
      const detail = e.stderr?.toString().trim().split('\n')[0] || e.message;
      throw new ServiceError(`systemctl ${args.join(' ')} failed: ${detail}`);
    }
  }
}
