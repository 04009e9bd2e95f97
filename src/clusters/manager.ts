/**
 * The epoch's cluster manager (main thread): one `ManagedCluster` per configured cluster,
 * the memberships workers start with and the updates they get after, the outlier events
 * workers report, what a reload hands to the next epoch, and what operators see.
 *
 *   const m = new ClusterManager(config.clusters, { stats, log, publish, handoff });
 *   await m.ready(5_000);                  // discovery answered, first checks done (bounded)
 *   pool.configure(config, sockets, m.memberships());
 *   …
 *   m.onOutlier(cluster, host, kind);      // from a worker
 *   m.handoff();                           // to the next epoch, through the supervisor
 */
import type { ClusterConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import type { StatsStore } from '../shm/types.js';
import { ManagedCluster } from './managed-cluster.js';
import type { ClusterMembership, ClusterStateHandoff, ClusterView, ClusterViewSource, HandedHost, OutlierKind } from './types.js';

export interface ClusterManagerDeps {
  readonly stats: StatsStore;
  readonly log: Logger;
  /** A cluster's new membership, for every worker. */
  readonly publish: (m: ClusterMembership) => void;
  /** What the serving epoch knew, or null (a cold start, or it could not say). */
  readonly handoff: ClusterStateHandoff | null;
  readonly now?: () => number;
}

export class ClusterManager implements ClusterViewSource {
  private readonly clusters = new Map<string, ManagedCluster>();

  constructor(configs: readonly ClusterConfig[], deps: ClusterManagerDeps) {
    const now = deps.now ?? Date.now;
    for (const c of configs) {
      const handed = new Map<string, HandedHost>(Object.entries(deps.handoff?.clusters[c.name] ?? {}));
      this.clusters.set(c.name, new ManagedCluster(c, { stats: deps.stats, log: deps.log, publish: deps.publish, now }, handed));
    }
  }

  /** Settles once every cluster may serve (see ManagedCluster.ready); never rejects. */
  async ready(timeoutMs: number): Promise<void> {
    await Promise.all([...this.clusters.values()].map((c) => c.ready(timeoutMs)));
  }

  memberships(): Map<string, ClusterMembership> {
    return new Map([...this.clusters].map(([name, c]) => [name, c.membership()]));
  }

  onOutlier(cluster: string, host: string, kind: OutlierKind): void {
    this.clusters.get(cluster)?.onOutlier(host, kind);
  }

  handoff(): ClusterStateHandoff {
    return { clusters: Object.fromEntries([...this.clusters].map(([name, c]) => [name, c.handoff()])) };
  }

  views(): ClusterView[] {
    return [...this.clusters.values()].map((c) => c.view());
  }

  stop(): void {
    for (const c of this.clusters.values()) c.stop();
  }
}
