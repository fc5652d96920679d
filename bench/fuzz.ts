/**
 * Long fuzz run of the wire path: the properties of test/wire/fuzz.test.ts
 * (framing + message decoding; the typed mapping on a real ProtocolLink) with
 * many more cases. Prints cases/s per property and any counterexample, and
 * close reasons that look like a JavaScript error rather than a protocol
 * message (not a failure: the link still closed, but the log is unhelpful).
 *
 *   npm run build && node dist/bench/fuzz.js
 *   FUZZ_RUNS=1000000 FUZZ_SEED=42 node dist/bench/fuzz.js
 */
import 'reflect-metadata';
import fc from 'fast-check';
import { decoderProperty, fuzzRuns, linkPropertyWith } from '../test/wire/fuzz-properties';

const runs = fuzzRuns(100_000);
const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Date.now() ^ (Math.random() * 0x1_0000_0000);
const JS_ERROR = /Cannot read properties|is not a function|is not iterable|Cannot convert|Maximum call stack|Invalid array length/;

async function measure<T>(name: string, check: () => fc.RunDetails<T> | Promise<fc.RunDetails<T>>): Promise<boolean> {
  const started = process.hrtime.bigint();
  const details = await check();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const rate = Math.round(details.numRuns / seconds);
  console.log(`${name}: ${details.numRuns} cases in ${seconds.toFixed(1)} s (${rate} cases/s)${details.failed ? ' FAILED' : ''}`);
  if (details.failed) console.log(fc.defaultReportMessage(details));
  return !details.failed;
}

async function main(): Promise<void> {
  console.log(`wire fuzz: ${runs} cases per property, seed ${seed} (replay with FUZZ_SEED=${seed})`);
  const jsErrors = new Map<string, string>();
  const linkProperty = linkPropertyWith(({ reason }, input) => {
    if (reason && JS_ERROR.test(reason) && !jsErrors.has(reason)) jsErrors.set(reason, input.toString('hex'));
  });
  const decoderOk = await measure('framing + message decoding', () => fc.check(decoderProperty, { numRuns: runs, seed }));
  const linkOk = await measure('typed messages on a ProtocolLink', () => fc.check(linkProperty, { numRuns: runs, seed }));
  if (jsErrors.size > 0) {
    console.log(`\n${jsErrors.size} close reason(s) carry a JavaScript error message instead of a protocol one (input as hex):`);
    for (const [reason, hex] of jsErrors) console.log(`- ${reason}\n  ${hex}`);
  }
  process.exitCode = decoderOk && linkOk ? 0 : 1;
}

void main();
