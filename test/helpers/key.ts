import { NetworkKey } from '../../src/security/key';

/** The network key every test node shares unless a test wants another (a fixed value: tests are reproducible). */
export const TEST_KEY_TEXT = '7465737420626f6f73746572206e6574776f726b206b6579206f6e6c79212121';
export const TEST_KEY = NetworkKey.parse(TEST_KEY_TEXT, 'test');
