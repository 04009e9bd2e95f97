/**
 * The load-balancing seam. A policy chooses among the hosts it was built with and knows
 * nothing about connections, health or pools: the cluster runtime (upstream/cluster.ts) builds
 * a policy over the hosts that may take traffic now (healthy ones, or all of them in panic)
 * each time the membership changes, and maps the index it returns to that host's pool.
 *
 * Policies are immutable once built, apart from their own cursor or random state. One file
 * per policy: round-robin.ts, least-request.ts, random.ts, ring-hash.ts, maglev.ts.
 */
import type { LbPolicyName } from '../../config/types.js';

/** A host as a policy sees it. */
export interface LbHost {
  /** `host:port`: stable across membership changes, so hash policies place a host at the same points. */
  readonly key: string;
  /** Effective weight, > 0 (slow start already applied by the caller); may be fractional. */
  readonly weight: number;
  /**
   * The host's shared counters (clusters/types.ts `HostSlot`); `leastRequest` reads
   * `active[HostSlot.ACTIVE]` (requests in flight over all workers).
   */
  readonly active: Int32Array;
}

export interface LoadBalancer {
  /**
   * Index into the hosts the policy was built with, 0..count-1; never called with none.
   * `hash`: the request's 32-bit unsigned hash (hash policies), or -1 when the request has no
   * hash key; the other policies ignore it. A hash policy given -1 picks at random.
   */
  pick(hash: number): number;
}

/** Per-policy settings, from the cluster config. */
export interface LbOptions {
  /** `leastRequest`: hosts drawn per pick, >= 2. */
  readonly choiceCount: number;
  /**
   * `ringHash`: points on the ring of a host of the average weight, the others in proportion
   * to their weight; the ring holds about ringSize × hosts points. Per host, not in total, so
   * that a host's points do not change when another joins or leaves (see ring-hash.ts).
   */
  readonly ringSize: number;
  /** `maglev`: table size, a prime. */
  readonly maglevTableSize: number;
  /** Uniform in [0, 1): injectable so tests are deterministic. */
  readonly random: () => number;
}

export interface LoadBalancerFactory {
  readonly name: LbPolicyName;
  /** Builds a policy over `hosts` (at least one). */
  create(hosts: readonly LbHost[], opts: LbOptions): LoadBalancer;
}
