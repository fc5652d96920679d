import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BoosterNode } from '../../src/core/node';
import { BIN, spawnCli } from '../helpers/cli';
import { run } from '../helpers/exec';
import { startTestNode } from '../helpers/node';
import { getViaSocks } from '../helpers/socks';
import { waitUntil } from '../helpers/ports';
import { startSizedOrigin, type SizedOrigin } from '../speedtest/origin';
import { parseFigure } from './svg';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);

/** A recording as --record writes it: ten seconds, this node (A) and one peer (B). */
function fixture(t0: number): string {
  const lines: object[] = [
    { t: t0, kind: 'booster-record', version: 1, node: '127.0.0.1:4884', features: ['node', 'net'] },
    { t: t0 + 10, kind: 'node-status', node: { id: A, baddr: '127.0.0.1:4884', paddr: '127.0.0.1:1080', active: true, tunnels: [] } },
    {
      t: t0 + 12,
      kind: 'node-status',
      node: { id: B, baddr: '127.0.0.2:4884', paddr: '127.0.0.2:1080', active: true, tunnels: [{ target: 'x:80', copies: 2 }] },
    },
  ];
  for (let s = 1; s <= 10; s++) {
    lines.push({ t: t0 + s * 1000, kind: 'bandwidth', nodeId: A, type: 'download', tot: s * 1_000_000, bandwidth: 1_000_000 });
    lines.push({ t: t0 + s * 1000 + 1, kind: 'bandwidth', nodeId: B, type: 'download', tot: s * 500_000, bandwidth: 500_000 });
  }
  for (let i = 0; i < 5; i++) lines.push({ t: t0 + 2000 + i * 100, kind: 'proxy-update', target: `h${i}:80`, operation: 'added', nodeId: A });
  lines.push({ t: t0 + 3000, kind: 'proxy-update', target: 'y:80', operation: 'added', nodeId: B });
  for (let i = 0; i < 5; i++) lines.push({ t: t0 + 6000 + i * 100, kind: 'proxy-update', target: `h${i}:80`, operation: 'removed', nodeId: A });
  lines.sort((a, b) => (a as { t: number }).t - (b as { t: number }).t);
  return `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`;
}

describe('booster plot and --record', function () {
  this.timeout(60_000);
  let dir: string;
  let origin: SizedOrigin;
  let node: BoosterNode;
  const cli = (...args: string[]) => run(process.execPath, [BIN, ...args], { timeoutMs: 45_000 });

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'booster-plot-'));
    origin = await startSizedOrigin();
    node = await startTestNode();
  });
  after(async () => {
    await node?.stop();
    await origin?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('draws one line per source in each panel, a legend naming them, and a time axis over the recording', async () => {
    const rec = path.join(dir, 'fixture.jsonl');
    fs.writeFileSync(rec, fixture(Date.UTC(2026, 0, 1)));
    const svgFile = path.join(dir, 'fixture.svg');
    const res = await cli('plot', rec, '-o', svgFile);
    expect(res.code, res.stderr).to.equal(0);
    const fig = parseFigure(fs.readFileSync(svgFile, 'utf8'));
    const names = ['aaaaaaaa 127.0.0.1:4884', 'bbbbbbbb 127.0.0.2:4884'];
    expect(fig.panels).to.have.length(2);
    expect([...fig.panels[0].lines].sort()).to.deep.equal(names);
    expect([...fig.panels[1].lines].sort()).to.deep.equal(names);
    expect([...fig.legend].sort()).to.deep.equal(names);
    const [conns, thru] = fig.panels;
    const x = conns.axes.find((a) => a.label.startsWith('X-axis'))!;
    expect(x.label).to.include("'time since start (s)'");
    expect(Math.min(...x.ticks)).to.equal(0);
    expect(Math.max(...x.ticks)).to.equal(10);
    // A peaks at 5 open connections, B at 3: the y axis reaches 5.
    expect(conns.axes.find((a) => a.label.startsWith('Y-axis'))!.label).to.include("'open connections'");
    expect(Math.max(...conns.axes.find((a) => a.label.startsWith('Y-axis'))!.ticks)).to.equal(5);
    const y = thru.axes.find((a) => a.label.startsWith('Y-axis'))!;
    expect(y.label).to.include("'throughput (Mbit/s)'");
    expect(Math.max(...y.ticks)).to.equal(8);
  });

  it('plots what speedtest --record recorded from a node while traffic ran', async () => {
    const job = path.join(dir, 'job.json');
    fs.writeFileSync(job, JSON.stringify([{ id: 'p', urls: [1, 2, 3, 4].map((i) => `${origin.url}/file/${i * 200_000}?ms=400`), sync: false }]));
    const rec = path.join(dir, 'run.jsonl');
    let res = await cli('speedtest', job, '-n', `127.0.0.1:${node.endpointAddress.port}`, '--record', rec, '--json');
    expect(res.code, res.stderr).to.equal(0);
    const lines = fs
      .readFileSync(rec, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { t: number; kind: string; operation?: string });
    expect(lines[0]).to.deep.include({ kind: 'booster-record', version: 1, node: `127.0.0.1:${node.endpointAddress.port}` });
    expect(lines.filter((l) => l.kind === 'proxy-update' && l.operation === 'added')).to.have.length(4);
    expect(lines.some((l) => l.kind === 'bandwidth')).to.equal(true);
    lines.forEach((l, i) => i > 0 && expect(l.t).to.be.at.least(lines[i - 1].t));

    const svgFile = path.join(dir, 'run.svg');
    res = await cli('plot', rec, '-o', svgFile, '--json');
    expect(res.code, res.stderr).to.equal(0);
    const fig = parseFigure(fs.readFileSync(svgFile, 'utf8'));
    const self = `${node.id.slice(0, 8)} 127.0.0.1:${node.endpointAddress.port}`;
    expect(fig.panels[0].lines).to.deep.equal([self]);
    expect(fig.panels[1].lines).to.deep.equal([self]);
    expect(fig.legend).to.deep.equal([self]);
    // All four downloads were open at once (the origin holds each for 400 ms).
    expect(Math.max(...fig.panels[0].axes.find((a) => a.label.startsWith('Y-axis'))!.ticks)).to.equal(4);
    const duration = (lines[lines.length - 1].t - lines[0].t) / 1000;
    const ticks = fig.panels[0].axes.find((a) => a.label.startsWith('X-axis'))!.ticks;
    expect(Math.min(...ticks)).to.equal(0);
    expect(Math.max(...ticks)).to.be.within(duration / 2, duration);
    expect(JSON.parse(res.stdout)).to.deep.include({ connections: [self], throughput: [self] });
  });

  it('monitor node --record writes the snapshot and tunnel events with their times', async () => {
    const rec = path.join(dir, 'monitor.jsonl');
    const mon = spawnCli(['monitor', 'node', '-n', `127.0.0.1:${node.endpointAddress.port}`, '--record', rec]);
    await waitUntil('the snapshot on disk', () => fs.existsSync(rec) && fs.readFileSync(rec, 'utf8').includes('node-status'), 15_000);
    const before = Date.now();
    const got = await getViaSocks(node.proxyAddress.port, '127.0.0.1', Number(new URL(origin.url).port), '/file/1000');
    expect(got.body.length).to.equal(1000);
    await waitUntil('both tunnel events', () => fs.readFileSync(rec, 'utf8').split('proxy-update').length - 1 >= 2, 10_000);
    mon.kill('SIGINT');
    expect(await mon.exited()).to.equal(0);
    const lines = fs
      .readFileSync(rec, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { t: number; kind: string; operation?: string; features?: string[] });
    expect(lines[0]).to.deep.include({ kind: 'booster-record', features: ['node'] });
    expect(lines[1].kind).to.equal('node-status');
    const updates = lines.filter((l) => l.kind === 'proxy-update');
    expect(updates.map((u) => u.operation)).to.deep.equal(['added', 'removed']);
    expect(updates[0].t).to.be.within(before - 50, Date.now());
  });

  it('refuses a file that is not a recording', async () => {
    const bad = path.join(dir, 'bad.jsonl');
    fs.writeFileSync(bad, '{"t":1,"kind":"node-status"}\n');
    const res = await cli('plot', bad, '-o', path.join(dir, 'bad.svg'));
    expect(res.code).to.equal(1);
    expect(res.stderr).to.match(/is not a booster recording/);
    expect(fs.existsSync(path.join(dir, 'bad.svg'))).to.equal(false);
  });
});
