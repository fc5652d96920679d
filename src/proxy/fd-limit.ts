import * as fs from 'node:fs';
import type { Limits } from '../api/settings';

/** Assumed when /proc/self/limits cannot be read (not Linux, or a sandbox hides it): the usual soft default. */
const FALLBACK_OPEN_FILES = 1024;
/** An "unlimited" soft limit still meets the kernel's fs.nr_open; this keeps the derived count sane. */
const UNLIMITED_OPEN_FILES = 65536;

/** The soft "Max open files" (RLIMIT_NOFILE) of this process, from the text of /proc/self/limits. */
export function openFilesLimit(readLimits: () => string = () => fs.readFileSync('/proc/self/limits', 'utf8')): number {
  let text: string;
  try {
    text = readLimits();
  } catch {
    return FALLBACK_OPEN_FILES;
  }
  const soft = /^Max open files\s+(\S+)/m.exec(text)?.[1];
  if (soft === 'unlimited') return UNLIMITED_OPEN_FILES;
  const n = Number(soft);
  return Number.isInteger(n) && n > 0 ? n : FALLBACK_OPEN_FILES;
}

/**
 * How many proxy connections may be open at once: `limits.maxProxyConnections`,
 * or when that is 0, what the open-files limit allows after `fdReserve`
 * descriptors are kept for the endpoint and the CLI, halved because every
 * tunnel holds two (the client and the upstream).
 */
export function proxyConnectionLimit(limits: Pick<Limits, 'maxProxyConnections' | 'fdReserve'>, openFiles: number = openFilesLimit()): number {
  if (limits.maxProxyConnections > 0) return limits.maxProxyConnections;
  return Math.max(1, Math.floor((openFiles - limits.fdReserve) / 2));
}
