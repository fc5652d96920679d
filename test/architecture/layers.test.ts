import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT } from '../helpers/paths';

// dependency-cruiser is ESM only (its package exports have no `require`), and
// tsc with "module": "commonjs" turns `import()` into `require()`; this keeps
// a real dynamic import.
// eslint-disable-next-line @typescript-eslint/no-implied-eval -- the only way to a real import() from CommonJS output on Node 20
const importEsm = new Function('specifier', 'return import(specifier)') as <T>(specifier: string) => Promise<T>;
type Cruise = (dirs: string[], options: object, resolveOptions: object, transpile: object) => Promise<{ output: { summary: { violations: Violation[] } } }>;
const DEPCRUISE = path.join(REPO_ROOT, 'node_modules', 'dependency-cruiser', 'src');

interface Violation {
  rule: { name: string };
  from: string;
  to: string;
  cycle?: { name: string }[];
}

/** Cruise `dirs` under `baseDir` with the repository's .dependency-cruiser.cjs rules. */
async function violations(baseDir: string, dirs: string[], tsConfigFile?: string): Promise<Violation[]> {
  const { cruise } = await importEsm<{ cruise: Cruise }>(path.join(DEPCRUISE, 'main', 'index.mjs'));

  const config = require(path.join(REPO_ROOT, '.dependency-cruiser.cjs'));
  let transpile = {};
  const options = { ...config.options, baseDir, ruleSet: { forbidden: config.forbidden }, validate: true };
  if (tsConfigFile) {
    const extractTsConfig = (await importEsm<{ default: (file: string) => object }>(path.join(DEPCRUISE, 'config-utl', 'extract-ts-config.mjs'))).default;
    transpile = { tsConfig: extractTsConfig(tsConfigFile) };
  } else {
    delete options.tsConfig;
  }
  const result = await cruise(dirs, options, {}, transpile);
  return result.output.summary.violations;
}

const describeViolation = (v: Violation) => `${v.rule.name}: ${v.from} → ${v.to}${v.cycle ? ` (cycle ${v.cycle.map((c) => c.name).join(' → ')})` : ''}`;

describe('architecture: one-way layers (.dependency-cruiser.cjs)', function () {
  this.timeout(120_000);

  it('src and plugins have no upward import and no import cycle', async () => {
    const found = await violations(REPO_ROOT, ['src', 'plugins'], path.join(REPO_ROOT, 'tsconfig.json'));
    expect(found.map(describeViolation), 'see the layer list in .dependency-cruiser.cjs').to.deep.equal([]);
  });

  describe('the rules catch what they are for', () => {
    let dir: string;
    const write = (file: string, text: string) => {
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      fs.writeFileSync(path.join(dir, file), text);
    };
    before(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'booster-layers-'));
      write('src/core/node.js', 'module.exports = {};\n');
      write('src/newfolder/thing.js', "require('../kernel/events');\n"); // in no layer
      write('src/kernel/events.js', "require('../core/node');\n"); // upward: kernel → core
      write('src/dispatch/dispatcher.js', "require('../extensions/host');\n"); // sideways
      write('src/extensions/host.js', 'module.exports = {};\n');
      write('src/network/link/protocol.js', "require('../sessions/session');\n"); // upward inside network
      write('src/network/sessions/session.js', "require('./endpoint');\n");
      write('src/network/sessions/endpoint.js', "require('./session');\n"); // cycle
      write('plugins/one/src/index.js', "require('../../../src/kernel/events'); require('../../two/src/index'); require('../../two/src/internal');\n");
      write('plugins/two/src/index.js', 'module.exports = {};\n');
      write('plugins/two/src/internal.js', 'module.exports = {};\n');
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('reports an upward import, a sideways one, a cycle and a plugin reaching into internals', async () => {
      const rules = new Set((await violations(dir, ['src', 'plugins'])).map((v) => `${v.rule.name} ${v.from}`));
      expect([...rules]).to.include.members([
        'layer-1-no-upward src/kernel/events.js',
        'every-folder-in-a-layer src/newfolder/thing.js',
        'no-dispatch-to-sibling src/dispatch/dispatcher.js',
        'extension-host-only-from-root src/dispatch/dispatcher.js',
        'network-link-no-upward src/network/link/protocol.js',
        'no-circular src/network/sessions/endpoint.js',
        'plugins-use-public-api-only plugins/one/src/index.js',
      ]);
      const pluginEdges = (await violations(dir, ['plugins'])).filter((v) => v.rule.name === 'plugins-use-public-api-only').map((v) => v.to);
      expect(pluginEdges.sort()).to.deep.equal(
        ['plugins/two/src/internal.js', 'src/kernel/events.js'],
        "another plugin's entry is allowed, its internals and src/ are not",
      );
    });
  });
});
