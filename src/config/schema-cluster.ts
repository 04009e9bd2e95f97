/**
 * `clusters[]` as the file spells it, and its normalized shape (types-cluster.ts). Field by
 * field only: what needs several fields (a `dns` block only with `strictDns`, `hashOn` only with
 * a hash policy) is checked in cross-checks-clusters.ts, in the same pass as everything else.
 */
import * as z from 'zod';
import { address, name } from './schema-scalars.js';
import { upstreamTlsSchema } from './schema-tls.js';
import type { ClusterConfig } from './types.js';

/** Circuit-breaker limits are counts; 1e6 is far past anything one epoch can hold open. */
const MAX_LIMIT = 1_000_000;
const limit = (min: number) => z.int({ error: 'must be a whole number' }).min(min, { error: `must be ${min}..${MAX_LIMIT}` }).max(MAX_LIMIT, { error: `must be ${min}..${MAX_LIMIT}` });

export const clusterSchema = z.strictObject({
  name,
  endpoints: z.array(address).min(1, { error: 'a cluster needs at least one endpoint' }),
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
    endpoints: c.endpoints.map((e) => ({ host: e.host, port: e.port, weight: 1, locality: null, metadata: null })),
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
