/**
 * The epoch's connection caps (proxy/limits/): the overall one from `limits.maxConnections`,
 * or else from the open-file limit, as HAProxy derives maxconn from ulimit-n. Each proxied
 * connection needs two fds (downstream and upstream; a pooled idle upstream connection is
 * one a closed downstream left, so the pair still bounds them), after a reserve: the fds
 * open now (stats region, RPC, listening sockets, worker threads' event loops), one more
 * per listening socket (each worker keeps a duplicate to pause on), and RESERVE_FDS for
 * what opens later (access logs, the admin endpoint, health checks, DNS, log rotation).
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { ProxyConfig } from '../../config/types.js';
import type { Logger } from '../../log.js';
import type { ConnectionLimitsInit } from '../../proxy/index.js';

export const RESERVE_FDS = 64;

/** The soft RLIMIT_NOFILE from /proc/self/limits; null when unlimited or not readable (not Linux). */
export function openFileLimit(text: string): number | null {
  const m = /^Max open files\s+(\S+)/m.exec(text);
  if (m === null || m[1] === undefined) return null;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) ? n : null;
}

/** `(nofile - open - sockets - RESERVE_FDS) / 2`, at least 1; null without a limit to derive from. */
export function fdConnectionBound(nofile: number | null, openFds: number, sockets: number): number | null {
  if (nofile === null) return null;
  return Math.max(1, Math.floor((nofile - openFds - sockets - RESERVE_FDS) / 2));
}

function readOr<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback;
  }
}

/** The caps for `config`'s epoch, whose workers were handed `sockets` listening sockets in all. */
export function connectionLimits(config: ProxyConfig, sockets: number, log: Logger): ConnectionLimitsInit {
  const nofile = readOr(() => openFileLimit(readFileSync('/proc/self/limits', 'utf8')), null);
  const openFds = readOr(() => readdirSync('/proc/self/fd').length, 0);
  const bound = fdConnectionBound(nofile, openFds, sockets);
  const configured = config.limits?.maxConnections;
  const overall = configured ?? bound ?? 0;
  if (configured !== undefined && bound !== null && configured > bound) {
    log.warn('limits.maxConnections is more than the open-file limit allows: accepts may fail with EMFILE', { maxConnections: configured, fdBound: bound, nofile });
  }
  log.info('connection limits', { maxConnections: overall === 0 ? undefined : overall, from: configured !== undefined ? 'config' : bound !== null ? 'RLIMIT_NOFILE' : 'none', nofile: nofile ?? undefined, openFds });
  const listeners: Record<string, { index: number; cap: number }> = {};
  config.listeners.forEach((l, i) => {
    listeners[l.name] = { index: 1 + i, cap: l.maxConnections ?? 0 };
  });
  return { counts: new SharedArrayBuffer(4 * (1 + config.listeners.length)), overall, listeners };
}
