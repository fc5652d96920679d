import { download, type DownloadOutcome, type Route } from './download';
import type { Job } from './job';

export interface RunOptions {
  readonly route: Route;
  /** At most this many downloads at once in a parallel job. */
  readonly parallel: number;
  readonly timeoutMs: number;
}

/** What a progress display hears while a job runs. */
export interface JobProgress {
  started(url: string): void;
  bytes(url: string, n: number, expected: number | undefined): void;
  finished(outcome: DownloadOutcome): void;
}

export interface JobRun {
  readonly id: string;
  readonly sync: boolean;
  /** 1-based, with --repeat. */
  readonly round: number;
  readonly files: number;
  readonly done: number;
  /** Bytes received, failed downloads included. */
  readonly bytes: number;
  readonly wallMs: number;
  /** Bytes received over wall time, in Mbit/s. */
  readonly mbps: number;
  readonly failures: readonly { readonly url: string; readonly reason: string }[];
  readonly downloads: readonly DownloadOutcome[];
}

/** Runs one job: its URLs one at a time (sync) or up to `parallel` at once. */
export async function runJob(job: Job, round: number, options: RunOptions, progress?: JobProgress): Promise<JobRun> {
  const started = Date.now();
  const outcomes = new Array<DownloadOutcome>(job.urls.length);
  let next = 0;
  const worker = async () => {
    while (next < job.urls.length) {
      const i = next++;
      const url = job.urls[i];
      progress?.started(url);
      outcomes[i] = await download(url, { route: options.route, timeoutMs: options.timeoutMs, onBytes: (n, expected) => progress?.bytes(url, n, expected) });
      progress?.finished(outcomes[i]);
    }
  };
  const width = job.sync ? 1 : Math.max(1, Math.min(options.parallel, job.urls.length));
  await Promise.all(Array.from({ length: width }, worker));
  const wallMs = Date.now() - started;
  const bytes = outcomes.reduce((s, o) => s + o.bytes, 0);
  return {
    id: job.id,
    sync: job.sync,
    round,
    files: job.urls.length,
    done: outcomes.filter((o) => o.ok).length,
    bytes,
    wallMs,
    mbps: wallMs > 0 ? (bytes * 8) / (wallMs * 1000) : 0,
    failures: outcomes.filter((o) => !o.ok).map((o) => ({ url: o.url, reason: o.error ?? 'failed' })),
    downloads: outcomes,
  };
}
