import * as z from 'zod';
import { address, duration, name } from './schema-scalars.js';
import { normalizeRoute, normalizeRoutingKeys, routeSchema, routingListenerKeys } from './schema-router.js';
import { listenerTlsSchema } from './schema-tls.js';
import { clusterSchema, normalizeCluster } from './schema-cluster.js';
import { httpFiltersSchema } from './schema-http-filters.js';
import { accessLogList, withAccessLog } from './schema-access-log.js';
import { listenerFiltersSchema, withListenerFilters } from './schema-listener-filters.js';
import { filterChainMatchSchema, normalizeFilterChainMatch } from './schema-filter-chains.js';
import { normalizeStats, statsSchema } from './schema-stats.js';
import type { DrainConfig, HttpFilterChainConfig, ListenerConfig, ProxyConfig, TcpFilterChainConfig } from './types.js';

/**
 * The shape of the config file, checked field by field. Every object is strict, so a typo in a
 * key is an error rather than a silently ignored setting. What spans several fields (unique
 * names, references, address clashes, which keys a listener or route needs) is checked in
 * `cross-checks.ts`, so those errors are reported even when some field here is wrong.
 */

export { NAME_PATTERN } from './schema-scalars.js';
export const MAX_WORKERS = 64;
export const DRAIN_DEFAULTS: DrainConfig = { strategy: 'gradual', drainTimeMs: 30_000, parentShutdownTimeMs: 45_000 };

// Which keys a listener or route needs depends on its other keys (routes for http, cluster for
// tcp; one action per route). Those rules live in cross-checks.ts and cross-checks-router.ts,
// since zod skips an object's refinements once a field inside it is wrong, and every error
// should come out in one pass. `routes:` takes the same routes as a virtual host.

/** The keys of a listener that make one filter chain; a `filterChains` entry has the same ones (which fit which protocol: cross-checks.ts). */
const chainKeys = {
  routes: z.array(routeSchema).optional(),
  cluster: name.optional(),
  http2: z.boolean({ error: 'must be true or false' }).optional(),
  allowConnect: z.boolean({ error: 'must be true or false' }).optional(),
  maxRequestHeadersKb: z.int({ error: 'must be a whole number of KiB' }).min(1, { error: 'must be 1..1024' }).max(1024, { error: 'must be 1..1024' }).optional(),
  maxRequestHeaders: z.int({ error: 'must be a whole number' }).min(1, { error: 'must be 1..1000' }).max(1000, { error: 'must be 1..1000' }).optional(),
  ...routingListenerKeys,
  tls: listenerTlsSchema.optional(),
  httpFilters: httpFiltersSchema.optional(),
};

const filterChain = z.strictObject({ name: name.optional(), match: filterChainMatchSchema.optional(), ...chainKeys });

const listener = z.strictObject({
  name,
  address,
  protocol: z.enum(['http', 'tcp'], { error: 'must be "http" or "tcp"' }),
  ...chainKeys,
  accessLog: accessLogList.optional(),
  listenerFilters: listenerFiltersSchema.optional(),
  filterChains: z.array(filterChain).min(1, { error: 'must list at least one filter chain (leave the key out for none)' }).optional(),
});

const drain = z.strictObject({
  strategy: z.enum(['gradual', 'immediate'], { error: 'must be "gradual" or "immediate"' }).default(DRAIN_DEFAULTS.strategy),
  drainTime: duration.optional(),
  parentShutdownTime: duration.optional(),
});

/** The whole file. Its output still has optional parts; `normalize` fills them in. */
export const configFileSchema = z.strictObject({
  workers: z.int({ error: 'must be a whole number' }).min(1, { error: `must be 1..${MAX_WORKERS}` }).max(MAX_WORKERS, { error: `must be 1..${MAX_WORKERS}` }).optional(),
  admin: z.strictObject({ address }).optional(),
  listeners: z.array(listener).min(1, { error: 'at least one listener is required' }),
  clusters: z.array(clusterSchema).default([]),
  drain: drain.optional(),
  standby: z.boolean({ error: 'must be true or false' }).optional(),
  stats: statsSchema.optional(),
});

export type ConfigFile = z.output<typeof configFileSchema>;

/**
 * Fills in the defaults and gives the config its final, documented shape (not yet frozen).
 * Objects are built here key by key, so the JSON (and the hash) does not depend on the order
 * of keys in the file.
 */
export function normalize(file: ConfigFile, cpus: number, baseDir = process.cwd()): ProxyConfig {
  return {
    workers: file.workers ?? Math.min(Math.max(1, cpus), MAX_WORKERS),
    admin: file.admin === undefined ? null : { address: file.admin.address },
    listeners: file.listeners.map((l) => withListenerFilters(withAccessLog(normalizeListener(l), l.accessLog, baseDir), l.listenerFilters)),
    clusters: file.clusters.map((c) => normalizeCluster(c, baseDir)),
    drain: {
      strategy: file.drain?.strategy ?? DRAIN_DEFAULTS.strategy,
      drainTimeMs: file.drain?.drainTime ?? DRAIN_DEFAULTS.drainTimeMs,
      parentShutdownTimeMs: file.drain?.parentShutdownTime ?? DRAIN_DEFAULTS.parentShutdownTimeMs,
    },
    standby: file.standby ?? true,
    stats: normalizeStats(file.stats),
  };
}

type FileListener = z.output<typeof listener>;

type FileChain = z.output<typeof filterChain>;

// The cross-checks guarantee the protocol rules before normalize runs; the throws mark a bug.
function normalizeListener(l: FileListener): ListenerConfig {
  const address = { host: l.address.host, port: l.address.port };
  const chains = l.filterChains ?? [];
  if (l.protocol === 'http') {
    if (l.routes === undefined && l.virtualHosts === undefined && chains.length === 0) throw new Error('unreachable: cross-checks require routes or virtualHosts on http listeners');
    const filterChains = chains.length === 0 ? {} : { filterChains: chains.map(normalizeHttpChain) };
    return { name: l.name, address, protocol: 'http', ...httpChainKeys(l), ...filterChains };
  }
  if (l.cluster === undefined && chains.length === 0) throw new Error('unreachable: cross-checks require a cluster on tcp listeners');
  return { name: l.name, address, protocol: 'tcp', ...(l.cluster === undefined ? {} : { cluster: l.cluster }), ...(chains.length === 0 ? {} : { filterChains: chains.map(normalizeTcpChain) }) };
}

/** What an http listener or one of its chains routes with. The virtualHosts form leaves `routes` empty: its rules are in `virtualHosts`. */
function httpChainKeys(l: FileListener | FileChain): Omit<HttpFilterChainConfig, 'name' | 'match' | 'tls'> {
  return {
    http2: l.http2 ?? false,
    routes: (l.routes ?? []).map(normalizeRoute),
    ...normalizeRoutingKeys(l),
    ...(l.httpFilters?.length ? { httpFilters: l.httpFilters } : {}),
    ...headLimits(l),
    ...(l.allowConnect === true ? { allowConnect: true as const } : {}),
  };
}

// A chain's `tls` is filled in by tls-files.ts, like a listener's.
function normalizeHttpChain(c: FileChain, j: number): HttpFilterChainConfig {
  if (c.routes === undefined && c.virtualHosts === undefined) throw new Error('unreachable: cross-checks require routes or virtualHosts on http filter chains');
  return { name: c.name ?? `#${j}`, match: normalizeFilterChainMatch(c.match), ...httpChainKeys(c) };
}

function normalizeTcpChain(c: FileChain, j: number): TcpFilterChainConfig {
  if (c.cluster === undefined) throw new Error('unreachable: cross-checks require a cluster on tcp filter chains');
  return { name: c.name ?? `#${j}`, match: normalizeFilterChainMatch(c.match), cluster: c.cluster };
}

/** Present only when the file sets them, so configs without them keep their shape and hash. */
function headLimits(l: FileListener | FileChain): { maxRequestHeadersKb?: number; maxRequestHeaders?: number } {
  return {
    ...(l.maxRequestHeadersKb === undefined ? {} : { maxRequestHeadersKb: l.maxRequestHeadersKb }),
    ...(l.maxRequestHeaders === undefined ? {} : { maxRequestHeaders: l.maxRequestHeaders }),
  };
}
