import * as net from 'node:net';
import type { Disposable, SourceDescriptor, SourcesApi } from 'booster';

export interface ProbeOptions {
  /** "host:port" to open a TCP connection to through each local source. */
  readonly target: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
}

/** Parses the plugin's `probe` option; undefined (probing off, the default) when absent. */
export function probeOptions(raw: unknown): ProbeOptions | undefined {
  if (raw === undefined) return undefined;
  const o = raw as Record<string, unknown>;
  if (typeof o.target !== 'string' || !/^.+:\d+$/.test(o.target)) throw new Error('probe.target must be "host:port"');
  const intervalMs = Number(o.intervalMs ?? 30_000);
  const timeoutMs = Number(o.timeoutMs ?? 5_000);
  if (!(intervalMs > 0) || !(timeoutMs > 0)) throw new Error('probe.intervalMs and probe.timeoutMs must be positive');
  return { target: o.target, intervalMs, timeoutMs };
}

/**
 * Active health check: every interval, a TCP connect to the probe target from
 * each local source (bound to its address). Off by default: on a metered link
 * every probe costs data.
 */
export function startProbing(sources: readonly SourceDescriptor[], api: SourcesApi, options: ProbeOptions): Disposable {
  const i = options.target.lastIndexOf(':');
  const host = options.target.slice(0, i).replace(/^\[|\]$/g, '');
  const port = Number(options.target.slice(i + 1));
  const probeAll = () => {
    for (const s of sources) {
      probeOnce(host, port, s.localAddress, options.timeoutMs).then(
        () => api.reportProbe(s.id, true, `connected to ${options.target}`),
        (err: Error) => api.reportProbe(s.id, false, `cannot reach ${options.target}: ${(err as NodeJS.ErrnoException).code ?? err.message}`),
      );
    }
  };
  probeAll();
  const timer = setInterval(probeAll, options.intervalMs);
  timer.unref();
  return { dispose: () => clearInterval(timer) };
}

function probeOnce(host: string, port: number, localAddress: string | undefined, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, localAddress });
    const timer = setTimeout(() => socket.destroy(Object.assign(new Error(`no answer in ${timeoutMs} ms`), { code: 'ETIMEDOUT' })), timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}
