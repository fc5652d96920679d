'use strict';
// Entry of a built-in plugin; scripts/build.js copies this one file to every
// plugins/<name>/index.js (generated, not tracked). Built-ins are compiled
// with booster itself, into booster's dist/. The plugin's folder is
// plugins/<name> in a checkout, and node_modules/@booster/plugin-<name> inside
// an installed booster (bundled): so find booster's package root by name
// rather than by a fixed relative path, which can only be right in one of the two.
const fs = require('node:fs');
const path = require('node:path');

const folder = require('./package.json').name.replace(/^@booster\/plugin-/, '');
let root = path.dirname(__dirname);
while (!isBooster(root)) {
  if (path.dirname(root) === root) throw new Error(`${__dirname}: no enclosing booster package; is this built-in plugin outside booster?`);
  root = path.dirname(root);
}
module.exports = require(path.join(root, 'dist', 'plugins', folder, 'src', 'index.js'));

function isBooster(dir) {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).name === 'booster';
  } catch {
    return false;
  }
}
