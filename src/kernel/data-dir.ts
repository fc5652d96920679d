import * as os from 'node:os';
import * as path from 'node:path';

/**
 * Where a node keeps its state: $BOOSTER_HOME, else $XDG_DATA_HOME/booster,
 * else ~/.local/share/booster (also right on Termux, whose HOME is private).
 */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.BOOSTER_HOME) return env.BOOSTER_HOME;
  const base = env.XDG_DATA_HOME || path.join(os.homedir(), '.local', 'share');
  return path.join(base, 'booster');
}

/** defaultDataDir's rule for --help (the manifest is built once, so it must not hold the builder's home). */
export const DATA_DIR_HELP = '$BOOSTER_HOME, else $XDG_DATA_HOME/booster, else ~/.local/share/booster';

/** The config file `booster start` reads when given no --config (if it exists), and `booster config init` writes by default. */
export function configFileIn(dataDir: string): string {
  return path.join(dataDir, 'config.json');
}
