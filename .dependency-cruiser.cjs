/**
 * The dependency-graph check (issue 11): layers run one way and there are no
 * import cycles. test/architecture/layers.test.ts runs this configuration on
 * src and plugins, so `npm test` fails on a new upward import or cycle;
 * `npx depcruise src plugins` shows the same report by hand.
 *
 * Layers, bottom to top (a folder may import its own layer and the ones below):
 *   0 src/api, src/index.ts   the public plugin API (types, Emitter, Disposable)
 *   1 src/kernel              events, DI tokens, logger, limit logs, clock, defaults
 *   2 src/wire                framing and messages
 *   3 src/security            key, TLS-PSK, auth, address classes
 *   4 src/dispatch  src/proxy  src/extensions   siblings: none imports another
 *   5 src/network             link < peers < monitor < control < sessions
 *   6 src/discovery, src/state  mDNS; saved peers and rules
 *   7 src/core                composition root and the node's lifecycle
 *   8 src/client
 *   9 src/cli, src/plot, src/service
 *  10 src/speedtest
 *  11 src/commands
 * plugins/* import only 'booster' (src/index.ts), their own files, and another
 * plugin package's entry file (plugins/<name>/src/index.ts), never its internals.
 */
const LAYERS = [
  ['^src/api/', '^src/index\\.ts$'],
  ['^src/kernel/'],
  ['^src/wire/'],
  ['^src/security/'],
  ['^src/dispatch/', '^src/proxy/', '^src/extensions/'],
  ['^src/network/'],
  ['^src/discovery/', '^src/state/'],
  ['^src/core/'],
  ['^src/client/'],
  ['^src/cli/', '^src/plot/', '^src/service/'],
  ['^src/speedtest/'],
  ['^src/commands/'],
];

/** One rule per layer: nothing in it may import anything in a layer above. */
const upward = LAYERS.slice(0, -1).map((from, i) => ({
  name: `layer-${i}-no-upward`,
  comment: `${from.join(' ')} may not import a higher layer (see the layer list at the top of .dependency-cruiser.cjs)`,
  severity: 'error',
  from: { path: from },
  to: { path: LAYERS.slice(i + 1).flat() },
}));

/** Folders of one layer do not import each other: they meet only through interfaces below them. */
const siblings = ['dispatch', 'proxy', 'extensions'].map((name) => ({
  name: `no-${name}-to-sibling`,
  comment: `src/${name} may not import its siblings in layer 4; put the shared interface in src/api or src/kernel`,
  severity: 'error',
  from: { path: `^src/${name}/` },
  to: { path: ['dispatch', 'proxy', 'extensions'].filter((n) => n !== name).map((n) => `^src/${n}/`) },
}));

/** The seams inside src/network, bottom to top. */
const NETWORK = ['link', 'peers', 'monitor', 'control', 'sessions'];
const network = NETWORK.slice(0, -1).map((name, i) => ({
  name: `network-${name}-no-upward`,
  comment: `src/network/${name} may not import ${NETWORK.slice(i + 1).join(', ')}`,
  severity: 'error',
  from: { path: `^src/network/${name}/` },
  to: { path: NETWORK.slice(i + 1).map((n) => `^src/network/${n}/`) },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'import cycles make load order matter and hide which module owns what',
      severity: 'error',
      from: { path: '^(src|plugins)/' },
      to: { circular: true },
    },
    {
      name: 'every-folder-in-a-layer',
      comment: 'a new folder under src/ must be placed in LAYERS, or nothing checks its imports',
      severity: 'error',
      from: { path: '^src/', pathNot: [...LAYERS.flat(), '^src/wire/generated/'] },
      to: {},
    },
    ...upward,
    ...siblings,
    ...network,
    {
      name: 'extension-host-only-from-root',
      comment: 'only the composition root (src/core) and the CLI know ExtensionHost; others take a Registry<T> from src/kernel',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(core|cli|commands|extensions)/' },
      to: { path: '^src/extensions/host\\.[jt]s$' },
    },
    {
      name: 'plugins-use-public-api-only',
      comment: "a plugin imports 'booster' (src/index.ts), its own files, and at most another plugin package's entry (as it would an npm dependency: tls builds on tcp), never another plugin's internals",
      severity: 'error',
      from: { path: '^plugins/([^/]+)/' },
      to: { path: '^(src|plugins)/', pathNot: ['^src/index\\.ts$', '^plugins/$1/', '^plugins/[^/]+/src/index\\.[jt]s$'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['(^|/)node_modules/', '^src/wire/generated/', '^dist/'] },
    // type-only imports are edges too: an upward `import type` still couples the layers
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
