/** One entry of a job file, as the original work's speed tests wrote them. */
export interface Job {
  readonly id: string;
  readonly urls: readonly string[];
  /** One download at a time; otherwise in parallel (capped by the runner). */
  readonly sync: boolean;
}

/** A job file that cannot be run as written; the message names the job and field. */
export class JobFileError extends Error {
  readonly code = 'bad_job_file';
  constructor(message: string) {
    super(message);
    this.name = 'JobFileError';
  }
}

/** Parses and checks a job file's text: a JSON array of `{ id, urls, sync }`. */
export function parseJobs(text: string, file = 'job file'): Job[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new JobFileError(`${file} is not JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(data)) throw new JobFileError(`${file} must be a JSON array of jobs ({ "id", "urls", "sync" })`);
  if (data.length === 0) throw new JobFileError(`${file} lists no jobs`);
  return data.map((entry, i) => parseJob(entry, i + 1));
}

function parseJob(entry: unknown, n: number): Job {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new JobFileError(`job ${n}: must be an object with "id", "urls" and "sync"`);
  const { id, urls, sync } = entry as Record<string, unknown>;
  if (typeof id !== 'string' || id.length === 0) throw new JobFileError(`job ${n}: id must be a non-empty string`);
  const label = `job ${n} ("${id}")`;
  if (!Array.isArray(urls) || urls.length === 0 || !urls.every(isHttpUrl)) throw new JobFileError(`${label}: urls must be a non-empty list of http(s) URLs`);
  if (typeof sync !== 'boolean') throw new JobFileError(`${label}: sync must be true or false`);
  return { id, urls: [...(urls as string[])], sync };
}

function isHttpUrl(u: unknown): boolean {
  if (typeof u !== 'string') return false;
  try {
    const { protocol } = new URL(u);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}
