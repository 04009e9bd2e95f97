/**
 * A cluster as one worker uses it: the snapshot's endpoint list, one pool per endpoint and a
 * load-balancing policy. A new snapshot builds new `ClusterRuntime`s but reuses the pools of
 * endpoints that stayed, so keep-alive connections survive a config swap.
 */
import type { ClusterSnapshot, LoadBalancerFactory, LoadBalancer } from '../types.js';
import { EndpointPool } from './pool.js';
import type { UpstreamHttp } from '../http/upstream.js';

export interface ClusterRuntime {
  readonly snapshot: ClusterSnapshot;
  readonly lb: LoadBalancer;
  readonly pools: readonly EndpointPool<UpstreamHttp>[];
}

/** Pools of one plane, keyed `<cluster>/<host:port>`, kept across snapshots. */
export class PoolRegistry {
  private readonly pools = new Map<string, EndpointPool<UpstreamHttp>>();

  constructor(private readonly maxIdle: number) {}

  /** Builds the runtimes for `clusters`; pools of endpoints no longer listed are closed. */
  build(clusters: Iterable<ClusterSnapshot>, lb: LoadBalancerFactory): Map<string, ClusterRuntime> {
    const out = new Map<string, ClusterRuntime>();
    const keep = new Set<string>();
    for (const c of clusters) {
      const pools = c.endpoints.map((e) => {
        const key = `${c.name}/${e.key}`;
        keep.add(key);
        let p = this.pools.get(key);
        if (p === undefined) {
          p = new EndpointPool<UpstreamHttp>(e, c.stats, this.maxIdle);
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
