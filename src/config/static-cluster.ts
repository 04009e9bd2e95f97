/**
 * A cluster built in code rather than read from a file (the workers' warm-up plane, benchmarks,
 * tests): a name, its static endpoints and any other keys as a file would spell them, run
 * through the same schema and normalize, so every other option gets the file's default.
 */
import { formatAddress } from './address.js';
import { clusterSchema, normalizeCluster } from './schema-cluster.js';
import type { ClusterConfig, SocketAddress } from './types.js';

/** @throws Error when the keys are not ones a config file could hold. */
export function staticCluster(name: string, endpoints: readonly SocketAddress[], keys: Readonly<Record<string, unknown>> = {}): ClusterConfig {
  return normalizeCluster(clusterSchema.parse({ name, endpoints: endpoints.map(formatAddress), ...keys }), process.cwd());
}
