import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BoosterNode } from '../../src/core/node';
import { BIN } from '../helpers/cli';
import { run } from '../helpers/exec';
import { startTestNode } from '../helpers/node';
import { startSizedOrigin, type SizedOrigin } from './origin';

interface JsonRun {
  id: string;
  sync: boolean;
  round: number;
  files: number;
  done: number;
  bytes: number;
  wallMs: number;
  mbps: number;
  failures: { url: string; reason: string }[];
  sources?: { id: string; self: boolean; tunnels: number; bytes?: number; address?: string }[];
  downloads: { url: string; ok: boolean; bytes: number; expected?: number }[];
}

/** `booster speedtest` against a local origin, through a real node's proxy and directly. */
describe('booster speedtest', function () {
  this.timeout(60_000);
  let origin: SizedOrigin;
  let node: BoosterNode;
  let dir: string;
  const nodeAddr = () => `127.0.0.1:${node.endpointAddress.port}`;
  const jobFile = (jobs: unknown) => {
    const file = path.join(dir, `job-${Math.random().toString(16).slice(2)}.json`);
    fs.writeFileSync(file, JSON.stringify(jobs));
    return file;
  };
  const speedtest = (...args: string[]) => run(process.execPath, [BIN, 'speedtest', ...args], { timeoutMs: 45_000 });
  const parse = (stdout: string) => JSON.parse(stdout) as { route: { kind: string; port?: number }; jobs: JsonRun[] };

  before(async () => {
    origin = await startSizedOrigin();
    node = await startTestNode();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'booster-speedtest-'));
  });
  after(async () => {
    await node?.stop();
    await origin?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('runs a sync job one download at a time through the node, and counts what the node carried', async () => {
    origin.reset();
    const urls = [1, 2, 3].map((i) => `${origin.url}/file/${i * 100_000}?ms=150`);
    const res = await speedtest(jobFile([{ id: 'one-by-one', urls, sync: true }]), '-n', nodeAddr(), '--json');
    expect(res.code, res.stderr + res.stdout).to.equal(0);
    const out = parse(res.stdout);
    expect(out.route).to.deep.include({ kind: 'proxy', port: node.proxyAddress.port });
    const [job] = out.jobs;
    expect(job).to.include({ id: 'one-by-one', sync: true, files: 3, done: 3, bytes: 600_000 });
    expect(job.failures).to.deep.equal([]);
    expect(job.wallMs).to.be.at.least(3 * 150);
    expect(job.mbps).to.be.closeTo((600_000 * 8) / (job.wallMs * 1000), 1e-9);
    expect(origin.maxConcurrent()).to.equal(1);
    const self = job.sources!.find((s) => s.self)!;
    expect(self.id).to.equal(node.id);
    expect(self.tunnels).to.equal(3);
    expect(self.bytes).to.be.at.least(600_000);
  });

  it('runs a parallel job at most --parallel at a time, and --repeat runs it again', async () => {
    origin.reset();
    const urls = [1, 2, 3, 4, 5, 6].map((i) => `${origin.url}/file/${i * 10_000}?ms=300`);
    const res = await speedtest(jobFile([{ id: 'wide', urls, sync: false }]), '-n', nodeAddr(), '--parallel', '2', '--repeat', '2', '--json');
    expect(res.code, res.stderr + res.stdout).to.equal(0);
    const jobs = parse(res.stdout).jobs;
    expect(jobs.map((j) => [j.id, j.round, j.done])).to.deep.equal([
      ['wide', 1, 6],
      ['wide', 2, 6],
    ]);
    expect(origin.maxConcurrent()).to.equal(2);
    // Three waves of two: about 900 ms, far less than six in a row (1800 ms).
    expect(jobs[0].wallMs).to.be.within(900, 1700);
    expect(jobs[0].bytes).to.equal(210_000);
    expect(jobs[1].sources!.find((s) => s.self)!.tunnels).to.equal(6);
  });

  it('counts a body shorter than its Content-Length as a failure, with the reason', async () => {
    const urls = [`${origin.url}/file/5000`, `${origin.url}/short/40000`, `${origin.url}/missing`];
    const res = await speedtest(jobFile([{ id: 'liars', urls, sync: false }]), '-n', nodeAddr(), '--json');
    expect(res.code).to.equal(1);
    const [job] = parse(res.stdout).jobs;
    expect(job.done).to.equal(1);
    expect(job.failures.map((f) => f.url)).to.deep.equal(urls.slice(1));
    expect(job.failures[0].reason).to.match(/short body: 20000 of 40000 bytes/);
    expect(job.failures[1].reason).to.match(/HTTP 404/);
    expect(job.downloads[1]).to.include({ ok: false, bytes: 20_000, expected: 40_000 });
  });

  it('--direct bypasses the node, and the table names files, bytes, time, throughput and failures', async () => {
    const before = node.tunnels.workload().length;
    const res = await speedtest(
      jobFile([{ id: 'plain', urls: [`${origin.url}/file/70000`, `${origin.url}/short/1000`], sync: true }]),
      '--direct',
      '-n',
      '127.0.0.1:1',
    );
    expect(res.code).to.equal(1);
    expect(res.stdout).to.match(/job plain \(sync\)/);
    expect(res.stdout).to.match(/files\s+1\/2 done, 1 failed/);
    expect(res.stdout).to.match(/bytes\s+68\.8 KiB \(70500\)/);
    expect(res.stdout).to.match(/wall time\s+\d+\.\d\d s/);
    expect(res.stdout).to.match(/throughput\s+\d+\.\d\d Mbit\/s/);
    expect(res.stdout).to.match(/failed\s+http:\/\/127\.0\.0\.1:\d+\/short\/1000: short body: 500 of 1000 bytes/);
    expect(res.stdout).not.to.match(/sources/);
    expect(res.stderr).to.match(/^done .*\/file\/70000 68\.4 KiB/m);
    expect(node.tunnels.workload().length).to.equal(before);
  });

  it('rejects a bad job file, naming the job and the field', async () => {
    let res = await speedtest(
      jobFile([
        { id: 'ok', urls: [`${origin.url}/file/1`], sync: true },
        { id: 'bad', urls: ['ftp://x/y'], sync: true },
      ]),
      '--direct',
    );
    expect(res.code).to.equal(1);
    expect(res.stderr.trim()).to.match(/^booster: job 2 \("bad"\): urls must be a non-empty list of http\(s\) URLs$/);
    res = await speedtest(jobFile([{ id: 'x', urls: [`${origin.url}/file/1`] }]), '--direct', '--json');
    expect(JSON.parse(res.stdout)).to.deep.equal({ error: { code: 'bad_job_file', message: 'job 1 ("x"): sync must be true or false' } });
    res = await speedtest(path.join(dir, 'nope.json'), '--direct');
    expect(res.code).to.equal(2);
    expect(res.stderr).to.match(/cannot read job file .*nope\.json/);
  });
});
