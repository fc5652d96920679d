/**
 * Checks that a test file's tests do not depend on each other: runs the file
 * with its tests in reverse order, then every test alone (a fresh mocha
 * process each, selected by an anchored --grep on its full title).
 *
 *   node dist/test/helpers/run-isolated.js dist/test/network/cluster.test.js [--timeout 60000]
 *
 * Exits non-zero if any run fails. Not a test file itself (mocha's spec glob
 * skips it): it runs the suite several times over.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import Mocha from 'mocha';

const SETUP = path.join(__dirname, '..', 'setup.js');
const MOCHA_BIN = require.resolve('mocha/bin/mocha.js');

interface Options {
  readonly file: string;
  readonly timeout: number;
}

function parseArgs(argv: readonly string[]): Options {
  const file = argv.find((a) => !a.startsWith('--'));
  const t = argv.indexOf('--timeout');
  const timeout = t >= 0 ? Number(argv[t + 1]) : 60_000;
  if (!file || !Number.isFinite(timeout) || timeout <= 0) throw new Error('usage: run-isolated <compiled test file> [--timeout ms]');
  return { file: path.resolve(file), timeout };
}

/** Reverses the order of tests and nested suites, everywhere under `suite`. */
function reverse(suite: Mocha.Suite): void {
  suite.tests.reverse();
  suite.suites.reverse();
  suite.suites.forEach(reverse);
}

function allTests(suite: Mocha.Suite): Mocha.Test[] {
  return [...suite.tests, ...suite.suites.flatMap(allTests)];
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

async function main(): Promise<void> {
  const { file, timeout } = parseArgs(process.argv.slice(2));
  require(SETUP);
  const mocha = new Mocha({ timeout, reporter: 'spec' });
  mocha.addFile(file);
  await mocha.loadFilesAsync();
  const titles = allTests(mocha.suite).map((t) => t.fullTitle());
  reverse(mocha.suite);

  console.log(`== ${path.basename(file)}: ${titles.length} tests in reverse order`);
  let started = Date.now();
  const reverseFailures = await new Promise<number>((resolve) => mocha.run(resolve));
  console.log(`== reverse order: ${reverseFailures} failed, ${Date.now() - started} ms`);

  const alone: string[] = [];
  started = Date.now();
  for (const title of titles) {
    const t0 = Date.now();
    const run = spawnSync(
      process.execPath,
      [MOCHA_BIN, '--no-config', '--require', SETUP, '--timeout', String(timeout), '--reporter', 'dot', '--grep', `^${escapeRegExp(title)}$`, file],
      { encoding: 'utf8' },
    );
    const passed = run.status === 0 && /\b1 passing/.test(run.stdout) && !/failing/.test(run.stdout);
    console.log(`== alone: ${passed ? 'ok  ' : 'FAIL'} ${Date.now() - t0} ms  ${title}`);
    if (!passed) {
      alone.push(title);
      console.log(run.stdout, run.stderr);
    }
  }
  console.log(`== each alone: ${alone.length} of ${titles.length} failed, ${Date.now() - started} ms`);
  process.exitCode = reverseFailures > 0 || alone.length > 0 ? 1 : 0;
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 2;
});
