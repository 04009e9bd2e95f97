/**
 * `clusters[]` as the file spells it, and its normalized shape (types-cluster.ts). Field by
 * field only: what needs several fields (a `dns` block only with `strictDns`, `hashOn` only with
 * a hash policy) is checked in cross-checks-clusters.ts, in the same pass as everything else.
 */
import { resolve } from 'node:path';
import * as z from 'zod';
import { address, duration, name } from './schema-scalars.js';
import { formatDuration } from './duration.js';
import { upstreamTlsSchema } from './schema-tls.js';
import type { ClusterConfig, EndpointConfig, HealthCheckConfig, OutlierDetectionConfig } from './types.js';

/** Circuit-breaker limits are counts; 1e6 is far past anything one epoch can hold open. */
const MAX_LIMIT = 1_000_000;

/** Envoy's defaults, unless a comment says otherwise. */
export const CLUSTER_DEFAULTS = {
  refreshRateMs: 5_000,
  choiceCount: 2,
  ringSize: 1024,
  maglevTableSize: 65_537,
  healthyPanicThreshold: 50,
  circuitBreakers: { maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 3 },
} as const;

const int = (min: number, max: number) => z.int({ error: 'must be a whole number' }).min(min, { error: `must be ${min}..${max}` }).max(max, { error: `must be ${min}..${max}` });
const limit = (min: number) => int(min, MAX_LIMIT);
const percent = int(0, 100);
const positive = duration.refine((ms) => ms > 0, { error: 'must be more than 0' });

const MAX_WEIGHT = 128;
const scalar = z.union([z.string(), z.number(), z.boolean()], { error: 'must be a string, a number or true/false' });
const text = z.string({ error: 'must be a string' }).min(1, { error: 'must not be empty' });

/** An endpoint: `host:port`, or `{ address, weight, locality, metadata }`. Also the shape of an endpoints file's entries. */
export const endpointSchema = z.union(
  [
    address,
    z.strictObject({
      address,
      weight: int(1, MAX_WEIGHT).optional(),
      locality: z.strictObject({ region: text.optional(), zone: text.optional(), subZone: text.optional() }).optional(),
      metadata: z.record(z.string(), scalar).optional(),
    }),
  ],
  { error: 'must be "host:port" or { address, weight, locality, metadata }' },
);

export type FileEndpoint = z.output<typeof endpointSchema>;

export function normalizeEndpoint(e: FileEndpoint): EndpointConfig {
  if (!('address' in e)) return { host: e.host, port: e.port, weight: 1, locality: null, metadata: null };
  const l = e.locality;
  return {
    host: e.address.host,
    port: e.address.port,
    weight: e.weight ?? 1,
    locality: l === undefined ? null : { ...(l.region === undefined ? {} : { region: l.region }), ...(l.zone === undefined ? {} : { zone: l.zone }), ...(l.subZone === undefined ? {} : { subZone: l.subZone }) },
    metadata: e.metadata ?? null,
  };
}

// A DNS name to resolve (no trailing dot).
const dnsName = z.string({ error: 'must be a host name' }).regex(/^(?=.{1,253}$)[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?)*$/, { error: 'must be a DNS host name, such as app.internal' });

const dns = z.strictObject({
  name: dnsName,
  port: int(1, 65535),
  refreshRate: positive.optional().meta({ default: formatDuration(CLUSTER_DEFAULTS.refreshRateMs) }),
  resolvers: z.array(address).optional(),
  family: z.enum(['v4', 'v6', 'all'], { error: 'must be "v4", "v6" or "all"' }).optional(),
});

const hex = z.string({ error: 'must be hex bytes, such as "50494e47"' }).regex(/^(?:[0-9A-Fa-f]{2})+$/, { error: 'must be an even number of hex digits, such as "50494e47"' });

/** `200`, or an inclusive range `"200-299"`. */
const statusRange = z.union([int(100, 599), z.string().regex(/^[1-5]\d\d-[1-5]\d\d$/)], { error: 'must be a status (200) or a range ("200-299")' }).transform((v, ctx): [number, number] => {
  if (typeof v === 'number') return [v, v];
  const [lo, hi] = v.split('-').map(Number) as [number, number];
  if (lo > hi) {
    ctx.issues.push({ code: 'custom', message: 'the range must not end before it starts', input: v });
    return z.NEVER;
  }
  return [lo, hi];
});

const healthCheck = z.strictObject({
  http: z.strictObject({ path: z.string().regex(/^\/[\x21-\x7e]*$/, { error: 'must be a path starting with /' }), host: text.optional(), expectedStatuses: z.array(statusRange).min(1, { error: 'must list at least one status' }).optional() }).optional(),
  tcp: z.strictObject({ send: hex.optional(), expect: z.array(hex).optional() }).optional(),
  interval: positive.optional(),
  intervalJitter: duration.optional(),
  timeout: positive.optional(),
  unhealthyThreshold: int(1, 1000).optional(),
  healthyThreshold: int(1, 1000).optional(),
});

const outlierDetection = z.strictObject({
  consecutive5xx: int(0, 1000).optional(),
  consecutiveGatewayFailure: int(0, 1000).optional(),
  interval: positive.optional(),
  baseEjectionTime: positive.optional(),
  maxEjectionTime: positive.optional(),
  maxEjectionPercent: percent.optional(),
  successRate: z.strictObject({ minimumHosts: int(1, 10_000).optional(), requestVolume: int(1, MAX_LIMIT).optional(), stdevFactor: z.number({ error: 'must be a number' }).positive({ error: 'must be more than 0' }).optional() }).optional(),
});

const circuitBreakers = z.strictObject({
  maxConnections: limit(1).optional().meta({ default: CLUSTER_DEFAULTS.circuitBreakers.maxConnections }),
  maxPendingRequests: limit(0).optional().meta({ default: CLUSTER_DEFAULTS.circuitBreakers.maxPendingRequests }),
  maxRequests: limit(1).optional().meta({ default: CLUSTER_DEFAULTS.circuitBreakers.maxRequests }),
  maxRetries: limit(0).optional().meta({ default: CLUSTER_DEFAULTS.circuitBreakers.maxRetries }),
});

export const clusterSchema = z.strictObject({
  name: name.describe('Unique among clusters; routes name it, and it is part of stat names such as cluster.<name>.upstream_rq_total.'),
  discovery: z.enum(['static', 'strictDns', 'file'], { error: 'must be "static", "strictDns" or "file"' }).optional().meta({ default: 'static', description: 'Where the hosts come from: endpoints (static), a DNS name re-resolved every dns.refreshRate (strictDns), or an endpoints file watched for changes (file).' }),
  endpoints: z.array(endpointSchema).optional().describe('static: the hosts, each host:port or { address, weight, locality, metadata }.'),
  dns: dns.optional().describe('strictDns: the name to resolve and how.'),
  file: text.optional().describe('file: the endpoints file (YAML or JSON, relative to the config file).'),
  tls: upstreamTlsSchema.optional().describe('Connect to the hosts over TLS.'),
  protocol: z.enum(['http1', 'http2'], { error: 'must be "http1" or "http2"' }).optional().meta({ default: 'http1', description: 'What the upstream connections speak.' }),
  lb: z.enum(['roundRobin', 'leastRequest', 'random', 'ringHash', 'maglev'], { error: 'must be roundRobin, leastRequest, random, ringHash or maglev' }).optional().meta({ default: 'roundRobin', description: 'The load-balancing policy; ringHash and maglev hash on hashOn.' }),
  hashOn: z.union([z.strictObject({ header: z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, { error: 'must be a header name' }) }), z.strictObject({ cookie: text }), z.strictObject({ sourceIp: z.literal(true) })], { error: 'must be { header: NAME }, { cookie: NAME } or { sourceIp: true }' }).optional(),
  leastRequest: z.strictObject({ choiceCount: int(2, 100).optional().meta({ default: CLUSTER_DEFAULTS.choiceCount }) }).optional(),
  ringHash: z.strictObject({ ringSize: int(1, 8_388_608).optional().meta({ default: CLUSTER_DEFAULTS.ringSize }) }).optional(),
  maglev: z.strictObject({ tableSize: int(3, 5_000_011).refine(isPrime, { error: 'must be a prime number, such as 65537' }).optional().meta({ default: CLUSTER_DEFAULTS.maglevTableSize }) }).optional(),
  slowStart: z.strictObject({ window: positive, aggression: z.number({ error: 'must be a number' }).positive({ error: 'must be more than 0' }).optional(), minWeightPercent: int(1, 100).optional() }).optional(),
  healthyPanicThreshold: percent.optional().meta({ default: CLUSTER_DEFAULTS.healthyPanicThreshold, description: 'Below this percentage of healthy hosts, traffic spreads over all hosts (panic).' }),
  healthCheck: healthCheck.optional().describe('Active health checks of each host, over HTTP or TCP.'),
  outlierDetection: outlierDetection.optional().describe('Passive checks: hosts that fail requests are ejected for a while.'),
  circuitBreakers: circuitBreakers.optional().describe('Limits per epoch on connections, pending requests, requests and retries to the cluster.'),
  // Spelled at the cluster before circuitBreakers existed; cross-checks refuse both at once.
  maxConnections: limit(1).optional(),
  maxPendingRequests: limit(0).optional(),
  maxRequestsPerConnection: limit(1).optional().describe('Close an upstream connection after this many requests. Default: no limit.'),
}).meta({ id: 'cluster', description: 'A set of upstream hosts, how they are found, balanced, checked and limited.' });

export type FileCluster = z.output<typeof clusterSchema>;

function isPrime(n: number): boolean {
  if (n < 2 || n % 2 === 0) return n === 2;
  for (let d = 3; d * d <= n; d += 2) if (n % d === 0) return false;
  return true;
}

/** `baseDir`: where a relative endpoints `file` is resolved from (the config file's directory). */
export function normalizeCluster(c: FileCluster, baseDir: string): ClusterConfig {
  const d = c.dns;
  const cb = c.circuitBreakers;
  const defaults = CLUSTER_DEFAULTS.circuitBreakers;
  return {
    name: c.name,
    discovery: c.discovery ?? 'static',
    endpoints: (c.endpoints ?? []).map(normalizeEndpoint),
    dns: d === undefined ? null : { name: d.name, port: d.port, refreshRateMs: d.refreshRate ?? CLUSTER_DEFAULTS.refreshRateMs, resolvers: d.resolvers ?? [], family: d.family ?? 'all' },
    file: c.file === undefined ? null : { path: resolve(baseDir, c.file) },
    protocol: c.protocol ?? 'http1',
    lb: c.lb ?? 'roundRobin',
    hashOn: c.hashOn ?? null,
    choiceCount: c.leastRequest?.choiceCount ?? CLUSTER_DEFAULTS.choiceCount,
    ringSize: c.ringHash?.ringSize ?? CLUSTER_DEFAULTS.ringSize,
    maglevTableSize: c.maglev?.tableSize ?? CLUSTER_DEFAULTS.maglevTableSize,
    slowStart: c.slowStart === undefined ? null : { windowMs: c.slowStart.window, aggression: c.slowStart.aggression ?? 1, minWeightPercent: c.slowStart.minWeightPercent ?? 10 },
    healthyPanicThreshold: c.healthyPanicThreshold ?? CLUSTER_DEFAULTS.healthyPanicThreshold,
    healthCheck: c.healthCheck === undefined ? null : normalizeHealthCheck(c.healthCheck),
    outlierDetection: c.outlierDetection === undefined ? null : normalizeOutlier(c.outlierDetection),
    circuitBreakers: {
      maxConnections: cb?.maxConnections ?? c.maxConnections ?? defaults.maxConnections,
      maxPendingRequests: cb?.maxPendingRequests ?? c.maxPendingRequests ?? defaults.maxPendingRequests,
      maxRequests: cb?.maxRequests ?? defaults.maxRequests,
      maxRetries: cb?.maxRetries ?? defaults.maxRetries,
    },
    maxRequestsPerConnection: c.maxRequestsPerConnection ?? null,
  };
}

function normalizeHealthCheck(h: NonNullable<FileCluster['healthCheck']>): HealthCheckConfig {
  // Not Envoy's: it has no defaults for these and requires them; these are common choices.
  const intervalMs = h.interval ?? 5_000;
  return {
    http: h.http === undefined ? null : { path: h.http.path, host: h.http.host ?? null, expectedStatuses: h.http.expectedStatuses ?? [[200, 299]] },
    tcp: h.tcp === undefined ? null : { send: h.tcp.send?.toLowerCase() ?? null, expect: (h.tcp.expect ?? []).map((x) => x.toLowerCase()) },
    intervalMs,
    jitterMs: h.intervalJitter ?? Math.floor(intervalMs / 10),
    timeoutMs: h.timeout ?? 1_000,
    unhealthyThreshold: h.unhealthyThreshold ?? 3,
    healthyThreshold: h.healthyThreshold ?? 2,
  };
}

function normalizeOutlier(o: NonNullable<FileCluster['outlierDetection']>): OutlierDetectionConfig {
  const sr = o.successRate;
  return {
    consecutive5xx: o.consecutive5xx ?? 5,
    consecutiveGatewayFailure: o.consecutiveGatewayFailure ?? 5,
    intervalMs: o.interval ?? 10_000,
    baseEjectionTimeMs: o.baseEjectionTime ?? 30_000,
    maxEjectionTimeMs: Math.max(o.maxEjectionTime ?? 300_000, o.baseEjectionTime ?? 30_000),
    maxEjectionPercent: o.maxEjectionPercent ?? 10,
    successRate: sr === undefined ? null : { minimumHosts: sr.minimumHosts ?? 5, requestVolume: sr.requestVolume ?? 100, stdevFactor: sr.stdevFactor ?? 1.9 },
  };
}
