import * as path from 'node:path';

/** The repository root, from dist/test/helpers. */
export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
export const FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures');
export const SHARED = path.resolve(REPO_ROOT, '..', 'shared');
