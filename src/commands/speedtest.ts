import * as fs from 'node:fs';
import { Args, Flags } from '@oclif/core';
import { NodeCommand, UsageError } from '../cli/base';
import { Recorder } from '../cli/record';
import { parseHostPort } from '../network/link/errors';
import type { Route } from '../speedtest/download';
import { parseJobs } from '../speedtest/job';
import { BarProgress, LineProgress } from '../speedtest/progress';
import { renderJob, type JobReport } from '../speedtest/report';
import { runJob } from '../speedtest/runner';
import { NodeWatch } from '../speedtest/node-watch';

export default class Speedtest extends NodeCommand {
  static override description =
    "Download a job file's URLs through a node's proxy (or directly) and report time, throughput, failures and what each source carried";
  static override examples = [
    '<%= config.bin %> speedtest jobs.json',
    '<%= config.bin %> speedtest jobs.json --parallel 4 --repeat 3 --record run.jsonl',
    '<%= config.bin %> speedtest jobs.json --direct --json',
  ];
  static override args = {
    job: Args.string({ required: true, description: 'job file: a JSON array of { "id", "urls", "sync" }' }),
  };
  static override flags = {
    proxy: Flags.string({ description: "SOCKS5 proxy to download through, HOST:PORT [default: the node's proxy]" }),
    direct: Flags.boolean({ description: 'download directly, not through a proxy (for comparison)', exclusive: ['proxy', 'record'] }),
    parallel: Flags.integer({ description: 'most downloads at once in a job that is not sync', default: 8, min: 1, max: 256 }),
    repeat: Flags.integer({ description: 'run every job this many times', default: 1, min: 1, max: 1000 }),
    'download-timeout': Flags.integer({ description: 'longest one download may take, in ms', default: 120_000, min: 1 }),
    record: Flags.string({ description: "record the node's monitor events during the run to FILE (JSON lines; see booster plot)" }),
    json: Flags.boolean({ description: 'print the results as JSON' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Speedtest);
    let text: string;
    try {
      text = await fs.promises.readFile(args.job, 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read job file ${args.job}: ${(err as Error).message}`);
    }
    const jobs = parseJobs(text, args.job);
    const explicitProxy = flags.proxy === undefined ? undefined : this.proxyAddress(flags.proxy);

    let watch: NodeWatch | undefined;
    let recorder: Recorder | undefined;
    try {
      let route: Route = { kind: 'direct' };
      if (!flags.direct) {
        const node = this.nodeAddress(flags.node);
        if (flags.record) recorder = await Recorder.open(flags.record, node, ['node', 'net']);
        watch = await NodeWatch.start(() => this.openClient(node, flags.timeout), { timeoutMs: flags.timeout, recorder });
        route = explicitProxy ?? { kind: 'proxy', ...this.proxyAddressOf(watch.proxyAddress, node) };
      }
      const progress =
        !flags.json && process.stderr.isTTY ? new BarProgress(process.stderr) : new LineProgress((l) => (flags.json ? undefined : this.logToStderr(l)));
      const reports: JobReport[] = [];
      try {
        for (let round = 1; round <= flags.repeat; round++) {
          for (const job of jobs) {
            const mark = watch?.tally.mark();
            const run = await runJob(job, round, { route, parallel: flags.parallel, timeoutMs: flags['download-timeout'] }, progress);
            // The node reports its byte counters once a second: wait for the report covering the job's last bytes.
            if (watch && mark) await watch.tally.nextReport(2500);
            const report: JobReport = mark && watch ? { ...run, sources: watch.tally.since(mark) } : run;
            reports.push(report);
            if (!flags.json) {
              progress.stop();
              this.log(renderJob(report, flags.repeat));
            }
          }
        }
      } finally {
        progress.stop();
      }
      if (flags.json) this.log(JSON.stringify({ route, jobs: reports.map(({ downloads, ...r }) => ({ ...r, downloads })) }, null, 2));
      if (reports.some((r) => r.failures.length > 0)) process.exitCode = 1;
    } finally {
      watch?.stop();
      await recorder?.close();
    }
  }

  private proxyAddress(value: string): Route {
    try {
      return { kind: 'proxy', ...parseHostPort(value, 1080) };
    } catch (err) {
      throw new UsageError(`bad --proxy "${value}": ${(err as Error).message}`);
    }
  }

  /** The proxy a node announces listens on its own address; from here, reach it at the node's host. */
  private proxyAddressOf(paddr: string | undefined, node: string): { host: string; port: number } {
    const nodeHost = parseHostPort(node, 4884).host;
    if (!paddr) return { host: nodeHost === 'localhost' ? '127.0.0.1' : nodeHost, port: 1080 };
    const p = parseHostPort(paddr, 1080);
    const unspecified = p.host === '0.0.0.0' || p.host === '::';
    return { host: unspecified ? nodeHost : p.host, port: p.port };
  }
}
