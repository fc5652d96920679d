import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import { bytes } from '../cli/format';
import type { DownloadOutcome } from './download';
import type { JobProgress } from './runner';

/** Progress bars on a terminal: one per download under way. */
export class BarProgress implements JobProgress {
  private readonly bars = new Map<string, { bar: SingleBar; got: number }>();
  private bar?: MultiBar;

  constructor(private readonly stream: NodeJS.WriteStream) {}

  /** A fresh set of bars per job: the report table is printed between jobs. */
  private get multi(): MultiBar {
    this.bar ??= new MultiBar(
      { stream: this.stream, clearOnComplete: true, hideCursor: true, format: '{bar} {percentage}% {got} {url}', autopadding: true },
      Presets.shades_classic,
    );
    return this.bar;
  }

  started(url: string): void {
    this.bars.set(url, { bar: this.multi.create(1, 0, { url, got: '0 B' }), got: 0 });
  }

  bytes(url: string, n: number, expected: number | undefined): void {
    const entry = this.bars.get(url);
    if (!entry) return;
    entry.got += n;
    if (expected !== undefined && entry.bar.getTotal() !== expected) entry.bar.setTotal(expected);
    entry.bar.update(expected === undefined ? 0 : entry.got, { got: bytes(entry.got) });
  }

  finished(o: DownloadOutcome): void {
    const entry = this.bars.get(o.url);
    if (entry) this.multi.remove(entry.bar);
    this.bars.delete(o.url);
    if (!o.ok) this.multi.log(`failed ${o.url}: ${o.error}\n`);
  }

  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
    this.bars.clear();
  }
}

/** Plain lines when not on a terminal: one per finished download. */
export class LineProgress implements JobProgress {
  constructor(private readonly log: (line: string) => void) {}
  started(): void {}
  bytes(): void {}
  finished(o: DownloadOutcome): void {
    this.log(o.ok ? `done ${o.url} ${bytes(o.bytes)} in ${(o.ms / 1000).toFixed(2)} s` : `failed ${o.url}: ${o.error}`);
  }
  stop(): void {}
}
