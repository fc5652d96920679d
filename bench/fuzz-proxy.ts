/**
 * Long fuzz run of the proxy's handshakes: the properties of
 * test/proxy/fuzz.test.ts (SOCKS5, SOCKS4/4a, HTTP built at random and
 * mutated, and random bytes, against three real ProxyServers: local, local
 * with credentials, stranger with the network key or credentials) with many
 * more cases. Every case is a batch of 1–4 connections; a legitimate client
 * must be served after each. Prints cases/s per protocol and any counterexample.
 *
 *   npm run build && node dist/bench/fuzz-proxy.js      (25,000 cases per protocol: 100,000 in all)
 *   FUZZ_RUNS=100000 FUZZ_SEED=42 node dist/bench/fuzz-proxy.js
 */
import 'reflect-metadata';
import fc from 'fast-check';
import { fuzzRuns, handshakeProperty, inputs, playKnown, startFuzzRig } from '../test/proxy/fuzz-cases';

const runs = fuzzRuns(25_000);
const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Date.now() ^ (Math.random() * 0x1_0000_0000);

async function main(): Promise<void> {
  console.log(`proxy handshake fuzz: ${runs} cases per protocol, seed ${seed} (replay with FUZZ_SEED=${seed})`);
  const rig = await startFuzzRig();
  let ok = true;
  try {
    await playKnown(rig);
    for (const [name, input] of Object.entries(inputs)) {
      const started = process.hrtime.bigint();
      const details = await fc.check(handshakeProperty(rig, input), { numRuns: runs, seed });
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      console.log(
        `${name}: ${details.numRuns} cases in ${seconds.toFixed(1)} s (${Math.round(details.numRuns / seconds)} cases/s)${details.failed ? ' FAILED' : ''}`,
      );
      if (details.failed) {
        ok = false;
        console.log(fc.defaultReportMessage(details));
      }
    }
  } finally {
    await rig.close();
  }
  process.exitCode = ok ? 0 : 1;
}

void main();
