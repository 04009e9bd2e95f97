/**
 * `clusters[]` as the file spells it, and its normalized shape (types-cluster.ts). Field by
 * field only: what needs several fields (a `dns` block only with `strictDns`, `hashOn` only with
 * a hash policy) is checked in cross-checks-clusters.ts, in the same pass as everything else.
 */
import * as z from 'zod';
import { address, name } from './schema-scalars.js';
import { upstreamTlsSchema } from './schema-tls.js';
import type { ClusterConfig, EndpointConfig } from './types.js';

/** Circuit-breaker limits are counts; 1e6 is far past anything one epoch can hold open. */
const MAX_LIMIT = 1_000_000;
const limit = (min: number) => z.int({ error: 'must be a whole number' }).min(min, { error: `must be ${min}..${MAX_LIMIT}` }).max(MAX_LIMIT, { error: `must be ${min}..${MAX_LIMIT}` });

const MAX_WEIGHT = 128;
const scalar = z.union([z.string(), z.number(), z.boolean()], { error: 'must be a string, a number or true/false' });
const localityPart = z.string({ error: 'must be a string' }).min(1, { error: 'must not be empty' });

/** An endpoint: `host:port`, or `{ address, weight, locality, metadata }`. Also the shape of an endpoints file's entries. */
export const endpointSchema = z.union(
  [
    address,
    z.strictObject({
      address,
      weight: z.int({ error: 'must be a whole number' }).min(1, { error: `must be 1..${MAX_WEIGHT}` }).max(MAX_WEIGHT, { error: `must be 1..${MAX_WEIGHT}` }).optional(),
      locality: z.strictObject({ region: localityPart.optional(), zone: localityPart.optional(), subZone: localityPart.optional() }).optional(),
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

export const clusterSchema = z.strictObject({
  name,
  endpoints: z.array(endpointSchema).min(1, { error: 'a cluster needs at least one endpoint' }),
  tls: upstreamTlsSchema.optional(),
  protocol: z.enum(['http1', 'http2'], { error: 'must be "http1" or "http2"' }).optional(),
  maxConnections: limit(1).optional(),
  maxPendingRequests: limit(0).optional(),
  maxRequestsPerConnection: limit(1).optional(),
});

export type FileCluster = z.output<typeof clusterSchema>;

export function normalizeCluster(c: FileCluster, _baseDir: string): ClusterConfig {
  return {
    name: c.name,
    discovery: 'static',
    endpoints: c.endpoints.map(normalizeEndpoint),
    dns: null,
    file: null,
    protocol: c.protocol ?? 'http1',
    lb: 'roundRobin',
    hashOn: null,
    choiceCount: 2,
    ringSize: 1024,
    maglevTableSize: 65537,
    slowStart: null,
    healthyPanicThreshold: 50,
    healthCheck: null,
    outlierDetection: null,
    circuitBreakers: { maxConnections: c.maxConnections ?? 1024, maxPendingRequests: c.maxPendingRequests ?? 1024, maxRequests: 1024, maxRetries: 3 },
    maxRequestsPerConnection: c.maxRequestsPerConnection ?? null,
  };
}
