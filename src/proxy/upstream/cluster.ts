/**
 * A cluster as one worker uses it: its config snapshot, its current members and the policy
 * that picks among those that may take traffic. Membership is RCU: the main thread publishes a
 * new `ClusterMembership`, the worker hands it to `setMembers` between events, and the next
 * pick sees it; an exchange in flight keeps the pool it has. The runtime object itself stays
 * for the life of a config snapshot, so listeners and routes hold it, never a member list.
 *
 * Which hosts may take traffic is clusters/membership.ts `trafficSet` (healthy ones, then the
 * degraded too, then all of them: panic, counted per pick in `lb_healthy_panic`).
 */
import { BudgetSlot, HostFlag, HostSlot, type ClusterMembership, type OutlierKind } from '../../clusters/types.js';
import { TrafficSet, trafficSet } from '../../clusters/membership.js';
import { slowStartFactor } from '../lb/index.js';
import type { LbHost, LoadBalancer } from '../lb/types.js';
import type { ClusterSnapshot } from '../types.js';
import { recordOutcome } from './outlier-record.js';
import type { ClusterBudget, UpstreamPool } from './pool-types.js';

/** Picks a retry makes to find a host other than the one that failed (Envoy's host_selection_retry_max_attempts). */
const RETRY_PICKS = 3;
/** Odd and far from any small multiple: a retry of a hash policy probes another point. */
const RETRY_HASH_STEP = 0x9e3779b1;

/** What a runtime reports to its plane. */
export interface ClusterEvents {
  outlier(cluster: string, host: string, kind: OutlierKind): void;
}

export class ClusterRuntime {
  /** The membership version applied; an older one is ignored. */
  version = -1;
  private eligible: readonly UpstreamPool[] = [];
  private lb: LoadBalancer | null = null;
  private panic = false;
  /** While a host ramps up (slow start), the wall-clock ms when the last one is done; 0 otherwise. */
  private rampUntil = 0;

  constructor(
    readonly snapshot: ClusterSnapshot,
    readonly budget: ClusterBudget,
    private readonly events: ClusterEvents,
  ) {}

  /** The hosts of `m`, as `pools` (one per host, same order); the policy is rebuilt over those that may take traffic. */
  setMembers(m: ClusterMembership, pools: readonly UpstreamPool[], now: number): void {
    this.version = m.version;
    const healthy: UpstreamPool[] = [];
    const degraded: UpstreamPool[] = [];
    for (const p of pools) {
      if (p.flags === 0) healthy.push(p);
      else if (p.flags === HostFlag.DEGRADED) degraded.push(p);
    }
    const set = trafficSet(healthy.length, degraded.length, pools.length, this.snapshot.balancing.panicThreshold);
    this.eligible = set === TrafficSet.Healthy ? healthy : set === TrafficSet.WithDegraded ? healthy.concat(degraded) : set === TrafficSet.All ? pools : [];
    this.panic = set === TrafficSet.All;
    this.rebuild(now);
  }

  /**
   * The pool of the host for one try, or null when the cluster has none (answer 503 `UH`).
   * `hash`: the request's, or -1. `avoid`: the previous try's pool; a retry picks another host
   * when there is one.
   */
  pick(hash: number, avoid: UpstreamPool | null): UpstreamPool | null {
    const lb = this.lb;
    if (lb === null) return null; // the caller counts upstream_cx_none_healthy
    if (this.panic) this.snapshot.stats.lbHealthyPanic.inc();
    const eligible = this.eligible;
    let p = eligible[lb.pick(hash)] as UpstreamPool;
    if (avoid === null || eligible.length === 1) return p;
    for (let i = 1; p === avoid && i < RETRY_PICKS; i++) p = eligible[lb.pick(hash < 0 ? hash : (hash + i * RETRY_HASH_STEP) >>> 0)] as UpstreamPool;
    return p;
  }

  /** A try on `pool` ended with `status` (or a local-failure pseudo-status): outlier bookkeeping. */
  outcome(pool: UpstreamPool, status: number): void {
    const kind = recordOutcome(pool.counters, status, this.snapshot.outlier);
    if (kind !== null) this.events.outlier(this.snapshot.name, pool.hostKey, kind);
  }

  /** The plane's tick: while a host ramps up, its weight grows with the clock. */
  tick(now: number): void {
    if (this.rampUntil !== 0) this.rebuild(now);
  }

  private rebuild(now: number): void {
    const eligible = this.eligible;
    if (eligible.length === 0) {
      this.lb = null;
      this.rampUntil = 0;
      return;
    }
    const b = this.snapshot.balancing;
    const ss = b.slowStart;
    let rampUntil = 0;
    const hosts: LbHost[] = eligible.map((p) => {
      let weight = p.weight;
      if (ss !== null && p.since > 0 && now < p.since + ss.windowMs) {
        weight *= slowStartFactor(p.since, now, ss);
        rampUntil = Math.max(rampUntil, p.since + ss.windowMs);
      }
      return { key: p.hostKey, weight, active: p.counters };
    });
    this.rampUntil = rampUntil;
    this.lb = b.policy.create(hosts, b.options);
  }
}

/** Requests in flight to the host and the cluster begin (one try). False: `maxRequests` is reached (answer 503 `UO`). */
export function beginTry(cluster: ClusterRuntime, pool: UpstreamPool): boolean {
  const c = cluster.budget.counters;
  if (Atomics.load(c, BudgetSlot.REQUESTS) >= cluster.snapshot.limits.maxRequests) return false;
  Atomics.add(c, BudgetSlot.REQUESTS, 1);
  Atomics.add(pool.counters, HostSlot.ACTIVE, 1);
  return true;
}

/** The try begun by `beginTry` is over. */
export function endTry(cluster: ClusterRuntime, pool: UpstreamPool): void {
  Atomics.sub(cluster.budget.counters, BudgetSlot.REQUESTS, 1);
  Atomics.sub(pool.counters, HostSlot.ACTIVE, 1);
}
