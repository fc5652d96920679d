import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { NodeSettings, Rule } from '../../src/api/settings';
import { DEFAULT_LIMITS, DEFAULT_SETTINGS } from '../../src/core/config';
import { ConsoleLogger } from '../../src/kernel/logger';
import { applyReload, type ConfigLayer, type ReloadTarget } from '../../src/state/reload';
import { readStateFile } from '../../src/state/state-file';
import { StateKeeper } from '../../src/state/state-keeper';

/** The state file's reader and writer, and what a reload applies, without a node. */
describe('state file and reload (units)', () => {
  let dir: string;
  const log = new ConsoleLogger('error');
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'booster-state-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads back what it wrote, in order, mode 0600, and refuses a file it cannot use, saying why', async () => {
    const file = path.join(dir, 'sub', 'state.json');
    const keeper = new StateKeeper(file, { peers: [] }, log, 2);
    const rule: Rule = { type: 'block', source: 'direct' };
    // Not awaited one by one: the writes queue, and the last one wins.
    void keeper.setPolicy('p2c');
    void keeper.addPeer({ address: '10.0.0.2:4884', name: 'phone' });
    void keeper.addPeer({ address: '10.0.0.3:4884', name: 'phone' }); // same name: replaces
    await keeper.setRules([rule]);
    expect(readStateFile(file, DEFAULT_LIMITS)).to.deep.equal({ policy: 'p2c', rules: [rule], peers: [{ address: '10.0.0.3:4884', name: 'phone' }] });
    expect(fs.statSync(file).mode & 0o777).to.equal(0o600);
    expect(fs.readdirSync(path.dirname(file))).to.deep.equal(['state.json']);
    await keeper.forget('policy');
    expect(readStateFile(file, DEFAULT_LIMITS).policy).to.equal(undefined);
    expect(readStateFile(path.join(dir, 'none.json'), DEFAULT_LIMITS)).to.deep.equal({ peers: [] });
    for (const [text, message] of [
      ['[]', /must hold a JSON object/],
      ['{"version": 2}', /has version 2, this booster reads version 1/],
      ['{"version": 1, "peers": [{"address": "x:1", "name": "a b"}]}', /peers\[0\]\.name must be/],
      ['{"version": 1, "rules": [{"type": "nope"}]}', /rule/],
      ['{"version": 1, "policy": 7}', /policy must be a policy name/],
    ] as const) {
      fs.writeFileSync(file, text);
      expect(() => readStateFile(file, DEFAULT_LIMITS), text).to.throw(message);
    }
  });

  it('a write that fails rejects with the reason; a full state file refuses one more peer', async () => {
    fs.writeFileSync(path.join(dir, 'blocker'), '');
    const keeper = new StateKeeper(path.join(dir, 'blocker', 'state.json'), { peers: [] }, log, 4);
    let error: Error | undefined;
    await keeper.setPolicy('p2c').catch((err: Error) => (error = err));
    expect(error?.message).to.match(/could not save it to .*blocker\/state\.json/);
    const full = new StateKeeper(path.join(dir, 'state.json'), { peers: [{ address: 'a:1' }] }, log, 1);
    await full.addPeer({ address: 'a:1', name: 'renamed' }); // the same address: replaced, not added
    let over: Error | undefined;
    await full.addPeer({ address: 'b:1' }).catch((err: Error) => (over = err));
    expect(over?.message).to.match(/already holds 1 peers, the most limits\.maxPeers allows/);
    expect(full.current.peers).to.deep.equal([{ address: 'a:1', name: 'renamed' }]);
  });

  it('a reload that cannot be applied changes nothing; restart-only settings are named', async () => {
    const calls: string[] = [];
    const target = (running: NodeSettings, maxRules: number): ReloadTarget => ({
      running,
      maxRules,
      usePolicy: async (name) => void calls.push(`policy ${name}`),
      setRules: (rules) => void calls.push(`rules ${rules.length}`),
      wire: (p) => void calls.push(`wire ${p.address}`),
      unwire: (a) => void calls.push(`unwire ${a}`),
      forgetSaved: async (k) => void calls.push(`forget ${k}`),
    });
    const layer = (settings: Partial<NodeSettings>, peers: ConfigLayer['peers'] = []): ConfigLayer => ({
      settings: { ...DEFAULT_SETTINGS, ...settings },
      peers,
    });
    const rules: Rule[] = [
      { type: 'block', source: 'a' },
      { type: 'block', source: 'b' },
    ];
    const before = layer({});
    await applyReload(before, layer({ policy: 'p2c', rules }), target(before.settings, 1)).then(
      () => expect.fail('accepted'),
      (err: Error) => expect(err.message).to.match(/more than this node's limits\.maxRules \(1\)/),
    );
    expect(calls).to.deep.equal([]);
    const report = await applyReload(
      layer({}, [{ address: 'old:1' }]),
      layer({ policy: 'p2c', rules, bport: 5000 }, [{ address: 'new:1', name: 'n' }]),
      target(before.settings, 10),
    );
    expect(calls).to.deep.equal(['policy p2c', 'forget policy', 'rules 2', 'forget rules', 'unwire old:1', 'wire new:1']);
    expect(report).to.deep.equal({ applied: ['policy p2c', '2 rules', 'peer removed old:1', 'peer added n (new:1)'], needsRestart: ['bport'] });
  });
});
