import fc from 'fast-check';
import { checkLeaksAround } from './harness';
import { fuzzRuns, handshakeProperty, inputs, playKnown, startFuzzRig, type FuzzRig } from './fuzz-cases';

// FUZZ_RUNS=N for N batches per protocol; bench/fuzz-proxy.ts runs 100,000+ and reports cases/s.
describe('proxy handshake fuzzing (valid handshakes built at random, mutated, and random bytes, over real sockets)', function () {
  this.timeout(120_000);
  let rig: FuzzRig | undefined;
  checkLeaksAround(async () => {
    await rig?.close();
    rig = undefined;
  });

  for (const [name, input] of Object.entries(inputs)) {
    it(`${name}: every connection is answered or closed, nothing escapes, and a legitimate client is served after`, async () => {
      rig = await startFuzzRig();
      await fc.assert(handshakeProperty(rig, input), { numRuns: fuzzRuns(name === 'random' ? 100 : 250) });
    });
  }

  it('known edge inputs (0x86 with early bytes, 255 methods, an empty user name, bare SOCKS4) are answered or closed', async () => {
    rig = await startFuzzRig();
    await playKnown(rig);
    for (const p of rig.proxies) await p.checkServes();
  });
});
