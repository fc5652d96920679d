// Loaded by mocha before every test file (see .mocharc.json).
import 'reflect-metadata';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TEST_KEY_TEXT } from './helpers/key';

// Every node and CLI the tests spawn shares one network key, and keeps its
// state in a throwaway directory: a test run never touches ~/.local/share/booster.
// Tests about key handling override both per process.
process.env.BOOSTER_KEY ??= TEST_KEY_TEXT;
// Nodes the tests start never announce themselves on this machine's LAN (mDNS);
// the discovery tests turn it on inside network namespaces of their own.
process.env.BOOSTER_ANNOUNCE ??= 'false';
if (!process.env.BOOSTER_HOME) {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'booster-test-home-'));
  process.env.BOOSTER_HOME = home;
  process.on('exit', () => fs.rmSync(home, { recursive: true, force: true }));
}
