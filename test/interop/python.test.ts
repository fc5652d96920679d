import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BoosterNode } from '../../src/core/node';
import { run } from '../helpers/exec';
import { startTestNode } from '../helpers/node';
import { REPO_ROOT } from '../helpers/paths';
import { waitUntil } from '../helpers/ports';

const PYTHON = '/usr/bin/python3';

/** A peer written in Python, generated from our proto/ with protoc, joins a TypeScript node. */
describe('cross-language: a Python peer built from proto/', function () {
  this.timeout(30_000);
  let node: BoosterNode;
  let pbDir: string;

  before(async function () {
    const protoc = await run('protoc', ['--version']);
    const pyProto = await run(PYTHON, ['-c', 'import google.protobuf']);
    if (protoc.code !== 0 || pyProto.code !== 0 || !fs.existsSync('/usr/include/google/protobuf/timestamp.proto')) {
      // CI installs them (.ci/run); a developer machine may not have them.
      console.warn('      skipped: needs Debian packages protobuf-compiler, libprotobuf-dev and python3-protobuf (bash .ci/run installs them)');
      this.skip();
    }
    pbDir = fs.mkdtempSync(path.join(os.tmpdir(), 'booster-pb-'));
    const gen = await run('protoc', [
      `--proto_path=${path.join(REPO_ROOT, 'proto')}`,
      '--proto_path=/usr/include',
      `--python_out=${pbDir}`,
      path.join(REPO_ROOT, 'proto', 'booster.proto'),
    ]);
    expect(gen.code, gen.stderr).to.equal(0);
    // The Python peer is a 0.3-style node (no booster.v1): only admitted with --allow-legacy-peers.
    // Heartbeats for 0.3 nodes scaled down from 8 s to 500 ms to keep the test short.
    node = await startTestNode({ settings: { heartbeatMs: 300, legacyHeartbeatMs: 500, allowLegacyPeers: ['127.0.0.1/32'] } });
  });

  after(async () => {
    await node?.stop();
    if (pbDir) fs.rmSync(pbDir, { recursive: true, force: true });
  });

  it('is refused as a peer without --allow-legacy-peers: it cannot prove it holds the network key', async () => {
    const strict = await startTestNode({ settings: { heartbeatMs: 300 } });
    try {
      const res = await run(
        PYTHON,
        [path.join(REPO_ROOT, 'test', 'interop', 'peer.py'), '--node', `127.0.0.1:${strict.endpointAddress.port}`, '--pb-dir', pbDir, '--beats', '1'],
        { timeoutMs: 20_000 },
      );
      expect(res.code, res.stdout + res.stderr).to.not.equal(0);
      expect(res.stdout).to.not.match(/peer: OK/);
      expect(strict.network.list()).to.have.length(0);
    } finally {
      await strict.stop();
    }
  });

  it('greets our node, has it connect (to the Python peer), and exchanges heartbeats with it', async () => {
    const res = await run(
      PYTHON,
      [path.join(REPO_ROOT, 'test', 'interop', 'peer.py'), '--node', `127.0.0.1:${node.endpointAddress.port}`, '--pb-dir', pbDir, '--beats', '3'],
      { timeoutMs: 20_000 },
    );
    expect(res.code, res.stdout + res.stderr).to.equal(0);
    expect(res.stdout).to.match(/peer: got Notify/);
    expect(res.stdout).to.match(/peer: heartbeat hops=5/);
    expect(res.stdout).to.match(/peer: OK/);
    // The Python peer closed its link: our node noticed at once.
    await waitUntil('peer marked down', () => node.network.list().every((p) => p.state === 'down'), 3000);
  });

  // 0.3 reads our ttl on its own clock: ±5 s of skew against 0.3's 8 s, scaled to the 500 ms used here.
  for (const skewMs of [-312, 312]) {
    it(`keeps heartbeating with a 0.3 peer whose clock is ${Math.abs(skewMs)} ms ${skewMs > 0 ? 'ahead of' : 'behind'} ours (5 s of 0.3's 8 s)`, async () => {
      const res = await run(
        PYTHON,
        [
          path.join(REPO_ROOT, 'test', 'interop', 'peer.py'),
          '--node',
          `127.0.0.1:${node.endpointAddress.port}`,
          '--pb-dir',
          pbDir,
          '--beats',
          '4',
          '--skew-ms',
          String(skewMs),
        ],
        { timeoutMs: 20_000 },
      );
      expect(res.code, res.stdout + res.stderr).to.equal(0);
      expect(res.stdout).to.match(/peer: heartbeat hops=7/);
      expect(res.stdout).to.match(/peer: OK/);
      await waitUntil('peer marked down', () => node.network.list().every((p) => p.state === 'down'), 3000);
    });
  }
});
