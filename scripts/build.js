#!/usr/bin/env node
// Build: generate wire types from proto/*.proto (protobufjs), compile TypeScript,
// refresh the oclif manifest. Run by `npm run build` (and `npm ci` via prepare).
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit' });

const protos = fs.existsSync(path.join(root, 'proto'))
  ? fs
      .readdirSync(path.join(root, 'proto'))
      .filter((f) => f.endsWith('.proto'))
      .map((f) => path.join('proto', f))
  : [];
if (protos.length > 0) {
  const outDir = path.join(root, 'src', 'wire', 'generated');
  fs.mkdirSync(outDir, { recursive: true });
  const js = path.join(outDir, 'booster.js');
  run(bin('pbjs'), ['-t', 'static-module', '-w', 'commonjs', '--no-verify', '--force-number', '-o', js, ...protos]);
  run(bin('pbts'), ['--no-comments', '-o', path.join(outDir, 'booster.d.ts'), js]);
}

// Each built-in plugin's package entry (plugins/<name>/index.js) is one shared
// file that finds booster's dist/ (see scripts/plugin-entry.js).
const entry = fs.readFileSync(path.join(__dirname, 'plugin-entry.js'));
for (const name of fs.readdirSync(path.join(root, 'plugins'))) {
  const pkg = path.join(root, 'plugins', name, 'package.json');
  if (fs.existsSync(pkg) && JSON.parse(fs.readFileSync(pkg, 'utf8')).main === 'index.js') fs.writeFileSync(path.join(root, 'plugins', name, 'index.js'), entry);
}

run(bin('tsc'), ['-p', 'tsconfig.json']);
// Examples compile against the API's declarations in dist/, as an external plugin would.
for (const example of fs.existsSync(path.join(root, 'examples')) ? fs.readdirSync(path.join(root, 'examples')) : []) {
  const tsconfig = path.join('examples', example, 'tsconfig.json');
  if (fs.existsSync(path.join(root, tsconfig))) run(bin('tsc'), ['-p', tsconfig]);
}
if (!process.argv.includes('--no-manifest')) {
  run(bin('oclif'), ['manifest']);
  // oclif lists commands in the order it finds them, which varies between
  // checkouts: sort them, so a build never dirties the tracked manifest.
  const file = path.join(root, 'oclif.manifest.json');
  const manifest = JSON.parse(fs.readFileSync(file, 'utf8'));
  manifest.commands = Object.fromEntries(
    Object.keys(manifest.commands)
      .sort()
      .map((id) => [id, manifest.commands[id]]),
  );
  fs.writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`);
}
