import type { Hook } from '@oclif/core';
import { distance } from 'fastest-levenshtein';

/**
 * oclif's command_not_found hook: a mistyped command gets one line with the
 * nearest command (`booster: "stauts" is not a booster command; did you mean
 * "status"?`), or the JSON error envelope with --json, and exit 127.
 */
const notFound: Hook<'command_not_found'> = async function (opts) {
  const separator = opts.config.topicSeparator ?? ' ';
  const shown = (id: string) => id.replace(/:/g, separator);
  const ids = opts.config.commands.filter((c) => !c.hidden).flatMap((c) => [c.id, ...c.aliases]);
  // With a space as separator, oclif's id can carry arguments ("conect:x"): try the longest prefix first.
  const parts = opts.id.split(':');
  let suggestion: string | undefined;
  for (let n = parts.length; n > 0 && suggestion === undefined; n--) {
    const typed = parts.slice(0, n).join(':');
    const best = nearest(typed, ids);
    // Close enough to be a typo: a few edits, relative to the command's length.
    if (best !== undefined && distance(typed, best) <= Math.max(2, Math.floor(best.length / 3)))
      suggestion = `"${shown(typed)}" is not a booster command; did you mean "${shown(best)}"?`;
  }
  const message = `${suggestion ?? `"${shown(parts[0])}" is not a booster command`} ("booster help" lists them)`;
  if (opts.argv?.includes('--json')) process.stdout.write(`${JSON.stringify({ error: { code: 'not-found', message } }, null, 2)}\n`);
  else process.stderr.write(`booster: ${message}\n`);
  this.exit(127);
};

export default notFound;

/** The id fewest edits away; ties go to the one of the same letters (a transposition), then of the nearest length. */
function nearest(typed: string, ids: readonly string[]): string | undefined {
  const letters = (s: string) => [...s].sort().join('');
  const rank = (id: string) => [distance(typed, id), letters(id) === letters(typed) ? 0 : 1, Math.abs(id.length - typed.length)];
  let best: string | undefined;
  let bestRank: number[] = [];
  for (const id of ids) {
    const r = rank(id);
    if (best === undefined || r[0] < bestRank[0] || (r[0] === bestRank[0] && (r[1] < bestRank[1] || (r[1] === bestRank[1] && r[2] < bestRank[2])))) {
      best = id;
      bestRank = r;
    }
  }
  return best;
}
