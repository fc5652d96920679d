import 'reflect-metadata';
import * as net from 'node:net';
import { inject, injectable } from 'tsyringe';
import type { Dialer } from '../api/dialer';
import type { Logger } from '../api/logger';
import type { CapacityProbeSettings, NodeSettings } from '../api/settings';
import type { Candidate } from '../api/sources';
import type { Target } from '../api/target';
import { TOKENS, type Clock } from '../kernel/tokens';
import type { Registry } from '../kernel/registry';
import { SourceRegistry } from './sources';

/** Below this many bytes after the first chunk, a download says nothing reliable about a rate. */
const MIN_MEASURED_BYTES = 32 * 1024;

export interface ProbeResult {
  readonly sourceId: string;
  /** Bytes/s, or undefined when nothing could be measured (`error` says why). */
  readonly rate?: number;
  readonly bytes: number;
  readonly error?: string;
}

/**
 * The optional active capacity probe (settings.capacityProbe, off by default:
 * every probe costs data). Every intervalMs, each of this node's own sources
 * (direct, interface) whose capacity estimate is missing or older than
 * capacity.freshMs downloads the probe URL through that source's dialer (the
 * one the dispatcher uses), at most maxBytes or timeoutMs, and the rate from
 * the first byte to the last is recorded as the source's capacity ("probe").
 */
@injectable()
export class CapacityProbe {
  private timer?: NodeJS.Timeout;
  private running?: Promise<ProbeResult[]>;
  private readonly stopping = new AbortController();
  private readonly log: Logger;

  constructor(
    private readonly sources: SourceRegistry,
    @inject(TOKENS.Dialers) private readonly dialers: Registry<Dialer>,
    @inject(TOKENS.Settings) private readonly settings: NodeSettings,
    @inject(TOKENS.Clock) private readonly clock: Clock,
    @inject(TOKENS.Logger) logger: Logger,
  ) {
    this.log = logger.child('capacity-probe');
  }

  /** Starts probing (first round at once) if capacityProbe is set. */
  start(): void {
    const probe = this.settings.capacityProbe;
    if (!probe || this.timer || this.stopping.signal.aborted) return;
    this.timer = setInterval(() => void this.runOnce(), probe.intervalMs);
    this.timer.unref();
    void this.runOnce();
  }

  /** One round: probes every local source that needs it; resolves with what each probe found. */
  runOnce(): Promise<ProbeResult[]> {
    const probe = this.settings.capacityProbe;
    if (!probe || this.stopping.signal.aborted) return Promise.resolve([]);
    this.running ??= this.round(probe).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  async dispose(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.stopping.abort(new Error('node stopping'));
    await this.running?.catch(() => undefined);
  }

  private async round(probe: CapacityProbeSettings): Promise<ProbeResult[]> {
    const now = this.clock.now();
    const due = this.sources.available().filter((c) => {
      if (c.kind === 'peer') return false;
      const at = this.sources.ownEstimateAt(c.id);
      return at === undefined || now - at > this.settings.capacity.freshMs;
    });
    const results: ProbeResult[] = [];
    // One source at a time: probes in parallel would share (and mis-measure) a common bottleneck.
    for (const source of due) {
      if (this.stopping.signal.aborted) break;
      const result = await this.measure(source, probe);
      results.push(result);
      if (result.rate !== undefined) {
        this.sources.recordProbe(source.id, result.rate);
        this.log.debug(`${source.label}: ${((result.rate * 8) / 1e6).toFixed(1)} Mbit/s (${result.bytes} bytes)`);
      } else {
        this.log.debug(`${source.label}: no measurement (${result.error})`);
      }
    }
    return results;
  }

  private async measure(source: Candidate, probe: CapacityProbeSettings): Promise<ProbeResult> {
    const url = new URL(probe.url);
    const port = Number(url.port || 80);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const target: Target = { host, port, kind: net.isIP(host) === 6 ? 'ipv6' : net.isIP(host) === 4 ? 'ipv4' : 'domain' };
    const controller = new AbortController();
    const onStop = () => controller.abort(this.stopping.signal.reason);
    this.stopping.signal.addEventListener('abort', onStop, { once: true });
    const timer = setTimeout(() => controller.abort(new Error(`timed out after ${probe.timeoutMs} ms`)), probe.timeoutMs);
    try {
      const dialer = await this.dialerFor(source.dialer);
      const { socket } = await dialer.dial({ target, source, signal: controller.signal });
      return await new Promise<ProbeResult>((resolve) => {
        let bytes = 0;
        let first: { at: number; bytes: number } | undefined;
        let last = 0;
        const finish = (error?: string) => {
          controller.signal.removeEventListener('abort', onAbort);
          socket.destroy();
          const measured = first ? bytes - first.bytes : 0;
          const seconds = first ? (last - first.at) / 1000 : 0;
          if (measured >= MIN_MEASURED_BYTES && seconds > 0) resolve({ sourceId: source.id, rate: measured / seconds, bytes });
          else resolve({ sourceId: source.id, bytes, error: error ?? `only ${bytes} bytes arrived` });
        };
        const onAbort = () => finish(String((controller.signal.reason as Error)?.message ?? 'aborted'));
        controller.signal.addEventListener('abort', onAbort, { once: true });
        socket.on('data', (chunk: Buffer) => {
          const at = this.clock.now();
          bytes += chunk.length;
          // The rate counts from the first chunk: connect time and server think time are not the link's.
          first ??= { at, bytes };
          last = at;
          if (bytes >= probe.maxBytes) finish();
        });
        socket.once('end', () => finish());
        socket.once('error', (err: Error) => finish(err.message));
        socket.write(
          `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nUser-Agent: booster-capacity-probe\r\nAccept-Encoding: identity\r\nConnection: close\r\n\r\n`,
        );
      });
    } catch (err) {
      return { sourceId: source.id, bytes: 0, error: (err as Error).message };
    } finally {
      clearTimeout(timer);
      this.stopping.signal.removeEventListener('abort', onStop);
    }
  }

  private async dialerFor(id: string): Promise<Dialer> {
    const dialer = await this.dialers.load(id);
    if (!dialer) throw new Error(`no plugin provides dialer "${id}"`);
    return dialer;
  }
}
