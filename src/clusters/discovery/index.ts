/** Endpoint discovery, one source per cluster, run on the epoch's main thread. */
import type { ClusterConfig } from '../../config/types.js';
import type { Discovery } from '../types.js';
import { FileDiscovery } from './file.js';
import type { DiscoveryDeps } from './reporter.js';
import { StaticDiscovery } from './static.js';
import { StrictDnsDiscovery } from './strict-dns.js';

export type { DiscoveryDeps } from './reporter.js';

/**
 * The source `cluster.discovery` names. Each counts `cluster.<name>.update_{attempt,success,
 * failure,empty,no_rebuild}` and logs failures (warn) and applied changes (info).
 * @throws TypeError when the block the discovery type needs (`dns`, `file`) is missing: the schema's cross-checks rule that out.
 */
export function createDiscovery(cluster: ClusterConfig, deps: DiscoveryDeps): Discovery {
  switch (cluster.discovery) {
    case 'static':
      return new StaticDiscovery(cluster.name, cluster.endpoints, deps);
    case 'strictDns':
      if (cluster.dns === null) throw new TypeError(`cluster ${cluster.name}: strictDns without a dns block`);
      return new StrictDnsDiscovery(cluster.name, cluster.dns, deps);
    case 'file':
      if (cluster.file === null) throw new TypeError(`cluster ${cluster.name}: file discovery without a file block`);
      return new FileDiscovery(cluster.name, cluster.file.path, deps);
  }
}
