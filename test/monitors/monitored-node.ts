import type { Logger } from '../../src/api/logger';
import type { NodeSettings } from '../../src/api/settings';
import { resolveSettings } from '../../src/core/config';
import { BoosterNode } from '../../src/core/node';
import { TEST_KEY } from '../helpers/key';
import { builtinPlugins } from '../helpers/node';

export const HTTP_PLUGIN = '@booster/plugin-http';

export interface LogLine {
  readonly level: string;
  readonly message: string;
  readonly fields?: Record<string, unknown>;
}

/** A logger that keeps every line (scope prefixed), for tests that read what a node said. */
export class CapturingLogger implements Logger {
  constructor(
    readonly lines: LogLine[] = [],
    private readonly scope = '',
  ) {}
  error(message: string, fields?: Record<string, unknown>): void {
    this.lines.push({ level: 'error', message: this.scope + message, fields });
  }
  warn(message: string, fields?: Record<string, unknown>): void {
    this.lines.push({ level: 'warn', message: this.scope + message, fields });
  }
  info(message: string, fields?: Record<string, unknown>): void {
    this.lines.push({ level: 'info', message: this.scope + message, fields });
  }
  debug(message: string, fields?: Record<string, unknown>): void {
    this.lines.push({ level: 'debug', message: this.scope + message, fields });
  }
  child(scope: string): Logger {
    return new CapturingLogger(this.lines, `${this.scope}${scope}: `);
  }
}

export interface MonitoredNode {
  readonly node: BoosterNode;
  readonly log: CapturingLogger;
  /** Where each monitor the node started listens ("metrics", "http-api", "dashboard"), from its log line. */
  readonly urls: ReadonlyMap<string, string>;
}

/** A node on 127.0.0.1 with ephemeral ports and the HTTP plugin's options; waits until the monitors asked for have logged their address. */
export async function startMonitoredNode(
  options: { metrics?: string; api?: string; dashboard?: string; [option: string]: unknown },
  settings: Partial<NodeSettings> = {},
): Promise<MonitoredNode> {
  const log = new CapturingLogger();
  const resolved = resolveSettings(
    { bind: '127.0.0.1', pport: 0, bport: 0, drainTimeoutMs: 200, discovery: { announce: false, autoConnect: false } },
    { plugins: { [HTTP_PLUGIN]: options } },
    settings,
  );
  const node = await BoosterNode.start({ settings: resolved, logger: log, plugins: await builtinPlugins(), key: TEST_KEY });
  const wanted = [options.metrics !== undefined && 'metrics', options.api !== undefined && 'http-api', options.dashboard !== undefined && 'dashboard'].filter(
    (x): x is string => Boolean(x),
  );
  const urls = new Map<string, string>();
  const deadline = Date.now() + 5_000;
  while (urls.size < wanted.length) {
    for (const line of log.lines)
      if (typeof line.fields?.monitor === 'string' && typeof line.fields.url === 'string') urls.set(line.fields.monitor, line.fields.url);
    if (urls.size >= wanted.length) break;
    if (Date.now() > deadline) {
      await node.stop();
      throw new Error(
        `monitors ${wanted.join(', ')} did not start: ${log.lines
          .filter((l) => l.level !== 'debug')
          .map((l) => l.message)
          .join(' | ')}`,
      );
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return { node, log, urls };
}
