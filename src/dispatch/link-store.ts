import 'reflect-metadata';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { inject, injectable } from 'tsyringe';
import type { Logger } from '../api/logger';
import type { NodeSettings } from '../api/settings';
import { writeFileAtomic } from '../kernel/atomic-file';
import { TOKENS, type Clock } from '../kernel/tokens';
import { SourceRegistry, type SavedEstimate } from './sources';

/** The file, in the data dir, that keeps link capacity estimates across restarts. */
export const LINKS_FILE = 'links.json';

/** One source's saved estimate, as in the file: measuredAt is wall time (ms since the epoch). */
export interface StoredLink {
  readonly capacity: number;
  readonly measuredAt: number;
  readonly via: 'measured' | 'probe';
}

/**
 * Reads links.json: `{"version": 1, "links": {"<source id>": {"capacity":
 * bytes/s, "measuredAt": epoch ms, "via": "measured" | "probe"}}}`. A missing
 * file is empty; an unreadable or malformed one throws (the caller warns and
 * goes on without it). Entries older than maxAgeMs (or from the future) are dropped.
 */
export function readLinksFile(file: string, maxAgeMs: number, wallNow = Date.now()): Map<string, StoredLink> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw err;
  }
  const raw = JSON.parse(text) as unknown;
  const links = (raw as { links?: unknown } | null)?.links;
  if ((raw as { version?: unknown } | null)?.version !== 1 || typeof links !== 'object' || links === null || Array.isArray(links)) {
    throw new Error('not a version 1 links file');
  }
  const out = new Map<string, StoredLink>();
  for (const [id, v] of Object.entries(links as Record<string, unknown>)) {
    const l = v as Partial<StoredLink> | null;
    if (!l || typeof l.capacity !== 'number' || !(l.capacity > 0) || !Number.isFinite(l.capacity)) continue;
    if (typeof l.measuredAt !== 'number' || !Number.isFinite(l.measuredAt)) continue;
    const age = wallNow - l.measuredAt;
    if (age < 0 || age > maxAgeMs) continue;
    out.set(id, { capacity: l.capacity, measuredAt: l.measuredAt, via: l.via === 'probe' ? 'probe' : 'measured' });
  }
  return out;
}

/** Writes links.json atomically (a temporary file, then rename), mode 0600. */
export async function writeLinksFile(file: string, links: ReadonlyMap<string, StoredLink>): Promise<void> {
  await writeFileAtomic(file, JSON.stringify({ version: 1, links: Object.fromEntries(links) }, null, 1));
}

/**
 * Keeps the source registry's capacity estimates in the data dir: loads them
 * at start (so a restart is not a cold start), saves saveDelayMs after a
 * change, and at stop. Never fails the node: an unreadable file or a failed
 * write is one warning.
 */
@injectable()
export class LinkPersistence {
  private readonly file: string;
  private readonly log: Logger;
  private started = false;
  private timer?: NodeJS.Timeout;
  private writing: Promise<void> = Promise.resolve();
  private writeFailed = false;
  private subscription?: { dispose(): void };

  constructor(
    private readonly sources: SourceRegistry,
    @inject(TOKENS.Settings) private readonly settings: NodeSettings,
    @inject(TOKENS.Clock) private readonly clock: Clock,
    @inject(TOKENS.Logger) logger: Logger,
  ) {
    this.file = path.join(path.resolve(settings.dataDir), LINKS_FILE);
    this.log = logger.child('capacity');
  }

  get path(): string {
    return this.file;
  }

  /** Loads the saved estimates into the registry and starts saving changes (no-op if capacity.persist is off). */
  start(): void {
    if (this.started || !this.settings.capacity.persist) return;
    this.started = true;
    const wallNow = Date.now();
    const now = this.clock.now();
    try {
      const stored = readLinksFile(this.file, this.settings.capacity.maxAgeMs, wallNow);
      const saved = new Map<string, SavedEstimate>();
      for (const [id, l] of stored) saved.set(id, { capacity: l.capacity, via: l.via, at: now - (wallNow - l.measuredAt) });
      this.sources.restore(saved);
      if (stored.size > 0) this.log.debug(`loaded capacity estimates for ${stored.size} source(s) from ${this.file}`);
    } catch (err) {
      this.log.warn(`ignoring saved capacity estimates: cannot use ${this.file} (${(err as Error).message.slice(0, 200)}); they will be measured again`);
    }
    this.subscription = this.sources.onEstimatesChanged(() => this.schedule());
  }

  /** Saves now if anything is pending, and stops saving. */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    this.subscription?.dispose();
    const pending = this.timer !== undefined;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (pending) this.save();
    await this.writing;
  }

  private schedule(): void {
    if (this.timer || !this.started) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.save();
    }, this.settings.capacity.saveDelayMs);
    this.timer.unref();
  }

  private save(): void {
    const wallNow = Date.now();
    const now = this.clock.now();
    const links = new Map<string, StoredLink>();
    for (const [id, e] of this.sources.savedEstimates())
      links.set(id, { capacity: Math.round(e.capacity), measuredAt: Math.round(wallNow - (now - e.at)), via: e.via });
    this.writing = this.writing.then(() =>
      writeLinksFile(this.file, links).then(
        () => {
          this.writeFailed = false;
        },
        (err: Error) => {
          if (!this.writeFailed) this.log.warn(`cannot save capacity estimates to ${this.file}: ${err.message}`);
          this.writeFailed = true;
        },
      ),
    );
  }
}
