import { addressesOverlap, formatAddress, parseAddress } from './address.js';
import { DRAIN_DEFAULTS, NAME_PATTERN } from './schema.js';
import { crossCheckRouting } from './cross-checks-router.js';
import { formatDuration, parseDuration } from './duration.js';
import type { IssuePath, PathIssue } from './issue.js';
import { crossCheckFilterChains } from './cross-checks-filter-chains.js';
import { crossCheckClusters } from './cross-checks-clusters.js';
import type { SocketAddress } from './types.js';

/**
 * Checks that span several fields: which keys a listener, filter chain or route needs, unique names, listeners that would share a port, cluster
 * references, and drain timing. They read the raw document (not zod's output), so they run
 * even when some unrelated field is malformed and all errors come out in one pass; anything
 * they cannot read is skipped here because the schema already reports it.
 */
export function crossCheck(raw: unknown): PathIssue[] {
  const issues: PathIssue[] = [];
  if (!isRecord(raw)) return issues;
  const listeners = Array.isArray(raw.listeners) ? raw.listeners : [];
  const clusters = Array.isArray(raw.clusters) ? raw.clusters : raw.clusters === undefined ? [] : null;

  listeners.forEach((l, i) => {
    listenerShape(l, i, issues);
  });
  uniqueNames('listeners', listeners, 'listener', issues);
  if (clusters !== null) {
    uniqueNames('clusters', clusters, 'cluster', issues);
    crossCheckClusters(clusters, issues);
  }
  listenerAddresses(listeners, issues);
  // If `clusters` itself is malformed, every reference would look dangling: say nothing more.
  if (clusters !== null) clusterReferences(listeners, clusters, issues);
  crossCheckRouting(listeners, clusters, issues);
  crossCheckFilterChains(listeners, issues);
  drainTiming(raw.drain, issues);
  return issues;
}

/**
 * http listeners have routes (each with one action) and no cluster; tcp listeners the reverse.
 * The same holds for each of a listener's filter chains; a listener with chains may leave its
 * own keys out (it then has no default chain).
 */
function listenerShape(l: unknown, i: number, issues: PathIssue[]): void {
  if (!isRecord(l)) return;
  const chains = Array.isArray(l.filterChains) ? l.filterChains : [];
  settingsShape(l, l.protocol, ['listeners', i], chains.length === 0, issues);
  timeoutKeys(l.timeouts, l.protocol, i, issues);
  chains.forEach((c, j) => {
    if (isRecord(c)) settingsShape(c, l.protocol, ['listeners', i, 'filterChains', j], true, issues);
  });
}

/** `s`: a listener or a filter chain; `required`: it must name where connections go. */
function settingsShape(s: Record<string, unknown>, protocol: unknown, base: IssuePath, required: boolean, issues: PathIssue[]): void {
  const at = (key: string): (string | number)[] => [...base, key];
  const what = base.length > 2 ? 'filter chain' : 'listener';
  if (protocol === 'http') {
    if (s.routes === undefined && s.virtualHosts === undefined) {
      if (required) issues.push({ path: at('routes'), message: `missing required key "routes" (or "virtualHosts"): an http ${what} needs at least one route`, at: 'value' });
    } else if (Array.isArray(s.routes) && s.routes.length === 0) issues.push({ path: at('routes'), message: `an http ${what} needs at least one route`, at: 'value' });
    if (s.cluster !== undefined) issues.push({ path: at('cluster'), message: `an http ${what} names its clusters in its routes, not at the ${what}`, at: 'key' });
    if (s.allowConnect === true && Array.isArray(s.httpFilters) && s.httpFilters.length > 0) issues.push({ path: at('allowConnect'), message: 'CONNECT tunnels bypass HTTP filters, so allowConnect cannot be combined with httpFilters', at: 'key' });
  } else if (protocol === 'tcp') {
    if (s.cluster === undefined && required) issues.push({ path: at('cluster'), message: `missing required key "cluster": a tcp ${what} sends every connection to one cluster`, at: 'value' });
    if (s.routes !== undefined) issues.push({ path: at('routes'), message: `a tcp ${what} has no routes (routes are for http)`, at: 'key' });
    if (s.http2 !== undefined) issues.push({ path: at('http2'), message: 'http2 is for http listeners', at: 'key' });
    for (const k of ['maxRequestHeadersKb', 'maxRequestHeaders', 'allowConnect'] as const) {
      if (s[k] !== undefined) issues.push({ path: at(k), message: `${k} is for http listeners`, at: 'key' });
    }
    if (s.httpFilters !== undefined) issues.push({ path: at('httpFilters'), message: `a tcp ${what} has no httpFilters (they are for http)`, at: 'key' });
  }
}

/** `timeouts.tcpIdle` is for tcp listeners; every other key of `timeouts` is for http ones. */
function timeoutKeys(t: unknown, protocol: unknown, i: number, issues: PathIssue[]): void {
  if (!isRecord(t) || (protocol !== 'http' && protocol !== 'tcp')) return;
  for (const k of Object.keys(t)) {
    if ((k === 'tcpIdle') === (protocol === 'http')) issues.push({ path: ['listeners', i, 'timeouts', k], message: `timeouts.${k} is for ${protocol === 'http' ? 'tcp' : 'http'} listeners`, at: 'key' });
  }
}

function uniqueNames(key: string, items: unknown[], what: string, issues: PathIssue[]): void {
  const first = new Map<string, number>();
  items.forEach((item, i) => {
    if (!isRecord(item) || typeof item.name !== 'string') return;
    const seen = first.get(item.name);
    if (seen === undefined) first.set(item.name, i);
    else issues.push({ path: [key, i, 'name'], message: `duplicate ${what} name "${item.name}" (first used by ${key}[${seen}])`, at: 'value' });
  });
}

function listenerAddresses(listeners: unknown[], issues: PathIssue[]): void {
  const bound: { index: number; address: SocketAddress }[] = [];
  listeners.forEach((l, i) => {
    if (!isRecord(l) || typeof l.address !== 'string') return;
    const parsed = parseAddress(l.address);
    if (!parsed.ok) return;
    const clash = bound.find((b) => addressesOverlap(b.address, parsed.address));
    if (clash !== undefined) {
      issues.push({
        path: ['listeners', i, 'address'],
        message: `${l.address} overlaps ${formatAddress(clash.address)} of listeners[${clash.index}]: two listeners cannot share a port`,
        at: 'value',
      });
    }
    bound.push({ index: i, address: parsed.address });
  });
}

function clusterReferences(listeners: unknown[], clusters: unknown[], issues: PathIssue[]): void {
  const defined = new Set<string>();
  for (const c of clusters) if (isRecord(c) && typeof c.name === 'string') defined.add(c.name);
  const check = (ref: unknown, path: IssuePath): void => {
    // A malformed name is already reported by the schema; one message per mistake is enough.
    if (typeof ref === 'string' && NAME_PATTERN.test(ref) && !defined.has(ref)) {
      issues.push({ path, message: `no cluster named "${ref}" is defined in clusters`, at: 'value' });
    }
  };
  // Routes' references are checked with the routes (cross-checks-router.ts).
  listeners.forEach((l, i) => {
    if (!isRecord(l)) return;
    check(l.cluster, ['listeners', i, 'cluster']);
    if (!Array.isArray(l.filterChains)) return;
    l.filterChains.forEach((c, j) => {
      if (isRecord(c)) check(c.cluster, ['listeners', i, 'filterChains', j, 'cluster']);
    });
  });
}

function drainTiming(drain: unknown, issues: PathIssue[]): void {
  if (!isRecord(drain)) return;
  const drainTime = durationOr(drain.drainTime, DRAIN_DEFAULTS.drainTimeMs);
  const shutdown = durationOr(drain.parentShutdownTime, DRAIN_DEFAULTS.parentShutdownTimeMs);
  if (drainTime === null || shutdown === null || shutdown >= drainTime) return;
  // Point at the field the user wrote; if both were written, the shutdown time is the one to raise.
  const blame = drain.parentShutdownTime !== undefined ? 'parentShutdownTime' : 'drainTime';
  issues.push({
    path: ['drain', blame],
    message: `parentShutdownTime (${formatDuration(shutdown)}) must not be less than drainTime (${formatDuration(drainTime)})`,
    at: 'value',
  });
}

/** The duration in ms, the default when absent, or null when malformed (the schema reports that). */
function durationOr(value: unknown, fallback: number): number | null {
  if (value === undefined) return fallback;
  if (typeof value !== 'string') return null;
  const r = parseDuration(value);
  return r.ok ? r.ms : null;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
