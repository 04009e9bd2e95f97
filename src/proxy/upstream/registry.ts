/**
 * The pools of one plane, keyed `<cluster>/<protocol>/<endpoint key>` and kept across config
 * snapshots and membership changes, so keep-alive connections to a host survive both. A pool
 * whose host left the cluster is closed: idle connections at once, busy ones when released.
 * Each cluster's circuit-breaker budget is kept by name too, with the latest snapshot's limits.
 */
import { hostKey } from '../../clusters/membership.js';
import type { ClusterMembership, HostData } from '../../clusters/types.js';
import type { ClusterSnapshot, EndpointSnapshot } from '../types.js';
import { UpstreamHttp } from '../http/upstream.js';
import { ClusterRuntime, type ClusterEvents } from './cluster.js';
import { Http2Pool } from './h2-pool.js';
import { EndpointPool } from './pool.js';
import type { ClusterBudget, HostFacts, UpstreamPool } from './pool-types.js';

type Pool = EndpointPool<UpstreamHttp> | Http2Pool;

export class PoolRegistry {
  private readonly pools = new Map<string, Pool>();
  private readonly budgets = new Map<string, ClusterBudget>();

  constructor(private readonly events: ClusterEvents) {}

  /** Runtimes for `clusters`, each with its snapshot's membership; pools of clusters and hosts no longer listed are closed. */
  build(clusters: Iterable<ClusterSnapshot>, now: number): Map<string, ClusterRuntime> {
    const out = new Map<string, ClusterRuntime>();
    for (const c of clusters) {
      let budget = this.budgets.get(c.name);
      if (budget === undefined) {
        budget = { counters: new Int32Array(c.membership.budget), limits: c.limits };
        this.budgets.set(c.name, budget);
      } else budget.limits = c.limits;
      const rt = new ClusterRuntime(c, budget, this.events);
      out.set(c.name, rt);
      this.place(rt, c.membership, now);
    }
    const prefixes = new Set([...out.values()].map((rt) => poolPrefix(rt.snapshot)));
    for (const [key, p] of this.pools) if (!prefixes.has(key.slice(0, key.indexOf('/', key.indexOf('/') + 1) + 1))) this.drop(key, p);
    // A budget outlives its cluster only in the connections still open, which hold it themselves.
    for (const name of this.budgets.keys()) if (!out.has(name)) this.budgets.delete(name);
    return out;
  }

  /** Gives `rt` the hosts of `m`: pools of hosts that stay are kept (with the new facts), new ones made, others closed. */
  place(rt: ClusterRuntime, m: ClusterMembership, now: number): void {
    const c = rt.snapshot;
    const prefix = poolPrefix(c);
    const keep = new Set<string>();
    const pools = m.hosts.map((h) => {
      const facts = hostFacts(h);
      const endpoint = endpointSnapshot(h, facts.hostKey, c);
      const key = prefix + endpoint.key;
      keep.add(key);
      let p = this.pools.get(key);
      if (p === undefined) {
        p = c.protocol === 'http2' ? new Http2Pool(endpoint, c.stats, rt.budget, facts) : new EndpointPool<UpstreamHttp>(endpoint, c.stats, rt.budget, facts, openHttp1);
        this.pools.set(key, p);
      } else p.setHost(facts);
      return p;
    });
    for (const [key, p] of this.pools) if (key.startsWith(prefix) && !keep.has(key)) this.drop(key, p);
    rt.setMembers(m, pools, now);
  }

  sweep(now: number, idleMs: number): void {
    for (const p of this.pools.values()) p.sweep(now, idleMs);
  }

  closeAll(): void {
    for (const p of this.pools.values()) p.close();
    this.pools.clear();
  }

  private drop(key: string, p: UpstreamPool): void {
    p.close();
    this.pools.delete(key);
  }
}

/** `<cluster>/<protocol>/`: a cluster whose protocol changed gets new pools. */
function poolPrefix(c: ClusterSnapshot): string {
  return `${c.name}/${c.protocol}/`;
}

function hostFacts(h: HostData): HostFacts {
  return { hostKey: hostKey(h), weight: h.weight, flags: h.flags, since: h.since, counters: new Int32Array(h.counters) };
}

function endpointSnapshot(h: HostData, key: string, c: ClusterSnapshot): EndpointSnapshot {
  const tls = c.tls;
  return { host: h.host, port: h.port, key: tls === null ? key : `${key} tls#${tls.id}`, tls };
}

function openHttp1(pool: EndpointPool<UpstreamHttp>): UpstreamHttp {
  return new UpstreamHttp(pool);
}
