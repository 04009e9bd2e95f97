import * as z from 'zod';
import { address, duration, name } from './schema-scalars.js';
import { adminSchema, normalizeAdmin } from './schema-admin.js';
import { formatDuration } from './duration.js';
import { normalizeRoute, normalizeRoutingKeys, routeSchema, routingListenerKeys } from './schema-router.js';
import { listenerTlsSchema } from './schema-tls.js';
import { clusterSchema, normalizeCluster } from './schema-cluster.js';
import { httpFiltersSchema } from './schema-http-filters.js';
import { accessLogList, withAccessLog } from './schema-access-log.js';
import { listenerFiltersSchema, withListenerFilters } from './schema-listener-filters.js';
import { filterChainMatchSchema, normalizeFilterChainMatch } from './schema-filter-chains.js';
import { normalizeStats, statsSchema } from './schema-stats.js';
import { listenerTimeoutsSchema, withTimeouts } from './schema-timeouts.js';
import { limitsSchema, maxConnections, withLimits, withMaxConnections } from './schema-limits.js';
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
  routes: z.array(routeSchema).optional().describe('http: the routes, tried in order, of one virtual host that takes every domain (or virtualHosts, not both).'),
  cluster: name.optional().describe('tcp: the cluster every connection is proxied to.'),
  http2: z.boolean({ error: 'must be true or false' }).optional().meta({ default: false, description: 'http: also accept HTTP/2 over cleartext with prior knowledge (h2c) on the same address; over TLS, ALPN chooses.' }),
  allowConnect: z.boolean({ error: 'must be true or false' }).optional().meta({ default: false, description: 'http: tunnel CONNECT requests to the cluster their route names; otherwise CONNECT is answered 403.' }),
  maxRequestHeadersKb: z.int({ error: 'must be a whole number of KiB' }).min(1, { error: 'must be 1..1024' }).max(1024, { error: 'must be 1..1024' }).optional().meta({ default: 60, description: 'http: the largest request head, in KiB; past it the request is answered 431.' }),
  maxRequestHeaders: z.int({ error: 'must be a whole number' }).min(1, { error: 'must be 1..1000' }).max(1000, { error: 'must be 1..1000' }).optional().meta({ default: 100, description: 'http: the most header fields a request may have; past it the request is answered 431.' }),
  ...routingListenerKeys,
  tls: listenerTlsSchema.optional().describe('Terminate TLS on this listener or chain.'),
  httpFilters: httpFiltersSchema.optional().describe('http: the HTTP filters each request passes, in order.'),
};

const filterChain = z
  .strictObject({ name: name.optional(), match: filterChainMatchSchema.optional(), ...chainKeys })
  .meta({ id: 'filterChain', description: 'One filter chain of a listener: the connections its match takes get its keys, which are the listener\'s own.' });

const listener = z.strictObject({
  name: name.describe('Unique among listeners; part of stat names such as listener.<name>.downstream_cx_total.'),
  address: address.describe('IPv4 literal, bracketed IPv6 literal or localhost, and a port; two listeners may not share one.'),
  protocol: z.enum(['http', 'tcp'], { error: 'must be "http" or "tcp"' }).describe('http: the HTTP connection manager and router; tcp: a TCP proxy to one cluster.'),
  ...chainKeys,
  accessLog: accessLogList.optional().describe('Files that get one line per request (http) or connection (tcp).'),
  listenerFilters: listenerFiltersSchema.optional().describe('Run on each accepted connection before a filter chain is chosen: proxyProtocol, tlsInspector.'),
  filterChains: z.array(filterChain).min(1, { error: 'must list at least one filter chain (leave the key out for none)' }).optional(),
  timeouts: listenerTimeoutsSchema.optional(),
  maxConnections: maxConnections.optional().describe('The most connections this listener holds at once over all workers; past it they wait in the accept queue. Default: no cap of its own (limits.maxConnections still applies).'),
}).meta({ id: 'listener', description: 'One address proxyctl listens on, with what it does with the connections it accepts.' });

const drain = z
  .strictObject({
    strategy: z.enum(['gradual', 'immediate'], { error: 'must be "gradual" or "immediate"' }).default(DRAIN_DEFAULTS.strategy).describe('gradual: connections are asked to close over drainTime; immediate: all at once when the drain starts.'),
    drainTime: duration.optional().meta({ default: formatDuration(DRAIN_DEFAULTS.drainTimeMs), description: 'How long an old epoch spends asking its connections to close.' }),
    parentShutdownTime: duration.optional().meta({ default: formatDuration(DRAIN_DEFAULTS.parentShutdownTimeMs), description: 'When an old epoch is stopped, open connections or not, counted from the start of its drain.' }),
  })
  .describe('How an epoch that is replaced (or stopped) lets its connections go.');

/** The whole file. Its output still has optional parts; `normalize` fills them in. */
export const configFileSchema = z.strictObject({
  workers: z.int({ error: 'must be a whole number' }).min(1, { error: `must be 1..${MAX_WORKERS}` }).max(MAX_WORKERS, { error: `must be 1..${MAX_WORKERS}` }).optional().describe(`Worker threads per epoch. Default: one per CPU, at most ${MAX_WORKERS}.`),
  admin: adminSchema.optional().describe('The admin endpoint, served over HTTP by the active epoch.'),
  listeners: z.array(listener).min(1, { error: 'at least one listener is required' }).describe('The addresses proxyctl listens on.'),
  clusters: z.array(clusterSchema).default([]).describe('The upstream clusters routes and tcp listeners name.'),
  drain: drain.optional(),
  standby: z.boolean({ error: 'must be true or false' }).optional().meta({ default: true, description: 'Keep a warm standby epoch (code loaded, workers running) for the next reload.' }),
  stats: statsSchema.optional().describe('The statsd sinks and how often they are flushed.'),
  limits: limitsSchema.optional(),
});

export type ConfigFile = z.output<typeof configFileSchema>;

/**
 * Fills in the defaults and gives the config its final, documented shape (not yet frozen).
 * Objects are built here key by key, so the JSON (and the hash) does not depend on the order
 * of keys in the file.
 */
export function normalize(file: ConfigFile, cpus: number, baseDir = process.cwd()): ProxyConfig {
  return withLimits(normalizeKeys(file, cpus, baseDir), file.limits);
}

function normalizeKeys(file: ConfigFile, cpus: number, baseDir: string): ProxyConfig {
  return {
    workers: file.workers ?? Math.min(Math.max(1, cpus), MAX_WORKERS),
    admin: normalizeAdmin(file.admin),
    listeners: file.listeners.map((l) => withMaxConnections(withTimeouts(withListenerFilters(withAccessLog(normalizeListener(l), l.accessLog, baseDir), l.listenerFilters), l.timeouts), l.maxConnections)),
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
