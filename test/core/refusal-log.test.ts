import { expect } from 'chai';
import type { Logger } from '../../src/api/logger';
import { silentLogger } from '../../src/kernel/logger';
import { LimitLog } from '../../src/kernel/limit-log';
import { RefusalLog, REFUSALS_LOGGED_PER_INTERVAL } from '../../src/kernel/refusal-log';

describe('RefusalLog: refusals cannot flood the log', () => {
  it('logs one line per refusal up to the per-interval cap, then one counted summary, and starts over next interval', () => {
    let now = 0;
    const lines: string[] = [];
    const warnings: string[] = [];
    const logger: Logger = { ...silentLogger, warn: (m: string) => warnings.push(m) };
    const limitLog = new LimitLog(logger, 1000, () => now);
    const refusals = new RefusalLog(
      (n, s) => `endpoint refused more than ${n} requests within ${s} s`,
      (l) => lines.push(l),
      limitLog,
      1000,
      () => now,
    );
    for (let i = 0; i < REFUSALS_LOGGED_PER_INTERVAL + 30; i++) refusals.refused(`refused notify from 10.0.0.${i}:1`);
    expect(lines).to.have.length(REFUSALS_LOGGED_PER_INTERVAL);
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.match(/^limit: endpoint refused more than 20 requests within 1 s; further ones/);
    now = 1000;
    refusals.refused('refused ctrl from 10.0.0.99:1');
    expect(lines).to.have.length(REFUSALS_LOGGED_PER_INTERVAL + 1);
  });
});
