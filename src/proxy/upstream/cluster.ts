/**
 * A cluster as one worker uses it: the snapshot's endpoint list, one pool per endpoint and a
 * load-balancing policy. A new snapshot builds new `ClusterRuntime`s but reuses the pools of
 * endpoints that stayed (with the same protocol), so keep-alive connections survive a config
 * swap; the cluster's connection budget stays too, with the new snapshot's limits.
 */
import type { ClusterSnapshot, LoadBalancerFactory, LoadBalancer } from '../types.js';
import { EndpointPool } from './pool.js';
import { Http2Pool } from './h2-pool.js';
import type { ClusterBudget, UpstreamPool } from './pool-types.js';
import { UpstreamHttp } from '../http/upstream.js';

export interface ClusterRuntime {
  readonly snapshot: ClusterSnapshot;
  readonly lb: LoadBalancer;
  readonly pools: readonly UpstreamPool[];
}

/** Pools of one plane, keyed `<cluster>/<protocol>/<host:port>`, kept across snapshots. */
export class PoolRegistry {
  private readonly pools = new Map<string, UpstreamPool>();
  private readonly budgets = new Map<string, ClusterBudget>();

  /** Builds the runtimes for `clusters`; pools of endpoints no longer listed are closed. */
  build(clusters: Iterable<ClusterSnapshot>, lb: LoadBalancerFactory): Map<string, ClusterRuntime> {
    const out = new Map<string, ClusterRuntime>();
    const keep = new Set<string>();
    const named = new Set<string>();
    for (const c of clusters) {
      named.add(c.name);
      let budget = this.budgets.get(c.name);
      if (budget === undefined) {
        budget = { connections: 0, pending: 0, limits: c.limits };
        this.budgets.set(c.name, budget);
      } else budget.limits = c.limits;
      const b = budget;
      const pools = c.endpoints.map((e) => {
        const key = `${c.name}/${c.protocol}/${e.key}`;
        keep.add(key);
        let p = this.pools.get(key);
        if (p === undefined) {
          p = c.protocol === 'http2' ? new Http2Pool(e, c.stats, b) : new EndpointPool<UpstreamHttp>(e, c.stats, b, openHttp1);
          this.pools.set(key, p);
        }
        return p;
      });
      out.set(c.name, { snapshot: c, lb: lb.create(pools.length), pools });
    }
    for (const [key, p] of this.pools) {
      if (!keep.has(key)) {
        p.close();
        this.pools.delete(key);
      }
    }
    // A budget outlives its cluster only in the connections still open, which hold it themselves.
    for (const name of this.budgets.keys()) if (!named.has(name)) this.budgets.delete(name);
    return out;
  }

  sweep(now: number, idleMs: number): void {
    for (const p of this.pools.values()) p.sweep(now, idleMs);
  }

  closeAll(): void {
    for (const p of this.pools.values()) p.close();
    this.pools.clear();
  }
}

function openHttp1(pool: EndpointPool<UpstreamHttp>): UpstreamHttp {
  return new UpstreamHttp(pool);
}
