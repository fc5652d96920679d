import { expect } from 'chai';
import fc from 'fast-check';
import { chunksOf, decoderProperty, fuzzRuns, linkProperty, playToLink, vectors } from './fuzz-properties';

// FUZZ_RUNS=100000 for a long run (or bench/fuzz.ts, which also reports cases/s).
describe('wire path fuzzing (random bytes and mutated 0.3 vectors, cut anywhere)', () => {
  it('framing and message decoding only ever fail with a WireError, hold at most the limit, and ignore how bytes are cut', () => {
    fc.assert(decoderProperty, { numRuns: fuzzRuns(2000) });
  });

  it('a link turns any input into typed messages and one close (clean, or a protocol error), never an escaped exception', async () => {
    await fc.assert(linkProperty, { numRuns: fuzzRuns(1000) });
  });

  it('the link property sees real traffic as typed messages and a clean close', async () => {
    const { messages, reason } = await playToLink(chunksOf(Buffer.concat(vectors), [7]));
    expect(reason).to.equal('closed by the other side');
    expect(messages).to.have.length(vectors.length);
  });
});
