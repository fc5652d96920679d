import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { parseRecord, Recorder } from '../../src/cli/record';

/** A full collection, even when node was not started with --expose-gc. */
function collectGarbage(): void {
  v8.setFlagsFromString('--expose-gc');
  (vm.runInNewContext('gc') as () => void)();
}

describe('Recorder', () => {
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'booster-record-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  // A recording held only by its fd lost the file when the FileHandle was collected mid-run (EBADF, lines gone).
  it('keeps its file open across garbage collection and writes every line', async () => {
    const file = path.join(dir, 'gc.jsonl');
    const rec = await Recorder.open(file, '127.0.0.1:4884', ['node']);
    rec.write({ kind: 'proxy-update', target: 'a:80', operation: 'added', nodeId: 'n' }, 1);
    collectGarbage();
    // FileHandle finalisers run after the collection, on a later turn.
    await new Promise((r) => setTimeout(r, 100));
    collectGarbage();
    await new Promise((r) => setTimeout(r, 100));
    rec.write({ kind: 'proxy-update', target: 'a:80', operation: 'removed', nodeId: 'n' }, 2);
    await rec.close();
    const { lines } = parseRecord(fs.readFileSync(file, 'utf8'), file);
    expect(lines.map((l) => l.t)).to.deep.equal([1, 2]);
  });
});
