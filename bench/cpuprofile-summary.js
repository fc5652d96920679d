#!/usr/bin/env node
// Summarises a V8 .cpuprofile (node --cpu-prof): self time by function, and by
// where the code lives (booster, Node's own JS, GC, idle, native). Plain JS.
//
//   node bench/cpuprofile-summary.js FILE.cpuprofile [--top 40] [--from-ms 1000] [--to-ms 9000] [--all-inclusive]
//   --from-ms/--to-ms keep the load phase only (not loading, listening, idling).
'use strict';
const fs = require('node:fs');

const file = process.argv[2];
const opt = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const top = opt('top', 40);
const fromMs = opt('from-ms', 0);
const toMs = opt('to-ms', Infinity);
const profile = JSON.parse(fs.readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));

// Sample weights: timeDeltas[i] is the time before sample i.
const self = new Map();
let t = 0;
let total = 0;
for (let i = 0; i < profile.samples.length; i++) {
  t += profile.timeDeltas[i] ?? 0;
  if (t / 1000 < fromMs || t / 1000 > toMs) continue;
  const dt = profile.timeDeltas[i + 1] ?? 0;
  self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + dt);
  total += dt;
}

const keyOf = (n) =>
  `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/^.*\/dist\//, '').replace(/^file:\/\//, '')}:${n.callFrame.lineNumber + 1}`;

function where(n) {
  const { functionName, url } = n.callFrame;
  if (functionName === '(garbage collector)') return 'gc';
  if (functionName === '(idle)') return 'idle';
  if (functionName === '(program)') return 'native/program';
  if (url.includes('/dist/src/') || url.includes('/dist/plugins/')) return 'booster';
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  if (url.includes('node_modules')) return 'node_modules';
  return url ? 'other js' : 'native';
}

const byFn = new Map();
const byWhere = new Map();
for (const [id, us] of self) {
  const n = byId.get(id);
  const key = keyOf(n);
  byFn.set(key, (byFn.get(key) ?? 0) + us);
  const w = where(n);
  byWhere.set(w, (byWhere.get(w) ?? 0) + us);
}
// Inclusive time: a function's own samples plus its callees' (counted once per stack).
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const inclusive = new Map();
for (const [id, us] of self) {
  const seen = new Set();
  for (let n = id; n !== undefined; n = parent.get(n)) {
    const k = keyOf(byId.get(n));
    if (seen.has(k)) continue;
    seen.add(k);
    inclusive.set(k, (inclusive.get(k) ?? 0) + us);
  }
}
const pct = (us) => `${((100 * us) / total).toFixed(1).padStart(5)} %`;
const busy = total - (byWhere.get('idle') ?? 0);
console.log(`profile ${file}: ${(total / 1e6).toFixed(2)} s sampled, ${(busy / 1e6).toFixed(2)} s busy (${pct(busy)})`);
console.log('\nself time by where:');
for (const [w, us] of [...byWhere].sort((a, b) => b[1] - a[1])) console.log(`  ${pct(us)}  ${w}`);
console.log(`\ntop ${top} functions by self time:`);
for (const [k, us] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(us)}  ${k}`);
console.log(`\ntop ${top} booster functions by inclusive time (self + callees):`);
for (const [k, us] of [...inclusive]
  .filter(([k]) => k.includes(' src/') || k.includes(' plugins/'))
  .sort((a, b) => b[1] - a[1])
  .slice(0, top))
  console.log(`  ${pct(us)}  ${k}`);
if (process.argv.includes('--all-inclusive')) {
  console.log(`\ntop ${top} functions by inclusive time:`);
  for (const [k, us] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(us)}  ${k}`);
}
