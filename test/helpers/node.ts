import * as fs from 'node:fs';
import * as path from 'node:path';
import type { NodeSettings } from '../../src/api/settings';
import { resolveSettings } from '../../src/core/config';
import { ConsoleLogger, silentLogger } from '../../src/kernel/logger';
import { BoosterNode } from '../../src/core/node';
import { discoverInstalledPlugins } from '../../src/extensions/discovery';
import { readDescription, type PluginDescription } from '../../src/extensions/manifest';
import type { Clock } from '../../src/kernel/tokens';
import type { NetworkKey } from '../../src/security/key';
import { TEST_BOOSTER_HOME } from './cli';
import { TEST_KEY } from './key';
import { REPO_ROOT } from './paths';

let builtins: Promise<PluginDescription[]> | undefined;

/** The built-in plugins, discovered the way the CLI does (oclif config), once per test run. */
export function builtinPlugins(): Promise<PluginDescription[]> {
  builtins ??= discoverInstalledPlugins(REPO_ROOT);
  return builtins;
}

export interface TestNodeOptions {
  readonly settings?: Partial<NodeSettings>;
  /** Extra plugin folders (fixtures), loaded after the built-ins. */
  readonly extraPlugins?: readonly string[];
  readonly clock?: Clock;
  /** Defaults to TEST_KEY, shared by every test node. */
  readonly key?: NetworkKey;
}

/** Starts a node on 127.0.0.1 with ephemeral ports; set BOOSTER_TEST_LOG=debug to see its log. */
export async function startTestNode(options: TestNodeOptions = {}): Promise<BoosterNode> {
  const settings = resolveSettings(
    // Never announced over mDNS on this machine's LAN, even when a test binds 0.0.0.0.
    // Each node its own data dir: what one test's node saves (capacity estimates) never reaches another test's.
    {
      bind: '127.0.0.1',
      pport: 0,
      bport: 0,
      drainTimeoutMs: 200,
      discovery: { announce: false, autoConnect: false },
      dataDir: fs.mkdtempSync(path.join(TEST_BOOSTER_HOME, 'node-')),
    },
    options.settings ?? {},
  );
  const plugins = [...(await builtinPlugins()), ...(options.extraPlugins ?? []).map((root) => readDescription(root, 'link'))];
  const level = process.env.BOOSTER_TEST_LOG as 'debug' | 'info' | undefined;
  return BoosterNode.start({ settings, logger: level ? new ConsoleLogger(level) : silentLogger, plugins, clock: options.clock, key: options.key ?? TEST_KEY });
}
