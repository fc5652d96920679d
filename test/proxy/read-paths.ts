// Running proxy suites over both upstream read paths, and checking the pooled read buffers they use.
import { expect } from 'chai';
import { upstreamBuffers } from '../../src/proxy/upstream-reader';
import { eventually, type ReadPath } from './harness';

/** Every read path a suite runs over: the fake connector's 'data' events, and the direct dialer's onread buffers. */
export const READ_PATHS: readonly ReadPath[] = ['data', 'onread'];

/** The upstream buffer pool's accounting from the moment of the mark (the pool is shared by the whole process). */
export interface PoolMark {
  /** Pooled buffers handed out since the mark and not yet returned. */
  inUse(): number;
  inUseBytes(): number;
  /** Pooled buffers handed out since the mark. */
  handedOut(): number;
}

export function markPool(): PoolMark {
  const { inUse, inUseBytes, handedOut } = upstreamBuffers;
  return {
    inUse: () => upstreamBuffers.inUse - inUse,
    inUseBytes: () => upstreamBuffers.inUseBytes - inUseBytes,
    handedOut: () => upstreamBuffers.handedOut - handedOut,
  };
}

/**
 * After a tunnel closed: every pooled buffer is back, and the bytes went
 * through the pool exactly when the read path is 'onread' (so a suite that
 * silently fell back to 'data' events fails).
 */
export async function expectPoolSettled(readPath: ReadPath, mark: PoolMark): Promise<void> {
  await eventually(() => mark.inUse() === 0, `pooled read buffers to be returned (still out: ${mark.inUse()})`);
  expect(mark.inUseBytes(), 'pooled bytes still out').to.equal(0);
  if (readPath === 'onread') expect(mark.handedOut(), 'chunks read through pooled buffers').to.be.greaterThan(0);
  else expect(mark.handedOut(), "a 'data' upstream never touches the pool").to.equal(0);
}
