import * as path from 'node:path';

/** The repository root, from dist/test/helpers. */
export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
export const FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures');
/** Booster Protocol 0.3 packets captured from the Go implementation (see test/vectors/ORIGIN.md). */
export const VECTORS = path.join(REPO_ROOT, 'test', 'vectors');
