/**
 * Ring hash, ketama style: every host puts points on a 32-bit ring at hash32(`${key}_${i}`),
 * and a request goes to the host of the first point at or after its hash (wrapping). A host's
 * points depend only on its key and its point count, so a membership change moves only the
 * keys of the arcs that change hands.
 *
 * Point counts: `ringSize` for a host of the average weight, in proportion for the others
 * (libketama normalizes the same way), at least 1; the ring holds about ringSize × hosts
 * points. Normalizing by the total instead (a ring of ringSize points in all) would shrink
 * every host's point count when a host joins, and the arcs of the points given up would move
 * between the hosts that stayed: with equal weights, counts here do not change with
 * membership, so adding a host moves keys only to it and removing one moves only its keys.
 * The ring holds about MAX_POINTS at most (Envoy's largest ring); past that the counts scale down,
 * and depend on membership again.
 */
import { hash32 } from './hash.js';
import type { LbHost, LbOptions, LoadBalancer, LoadBalancerFactory } from './types.js';
import { ONLY_HOST } from './shared.js';

/** Points sort as hash × 2^21 + host: exact in a double for up to 2^21 hosts, and no comparator. */
const HOST_BITS = 2 ** 21;
/** 8 Mi points: 64 MiB of build buffers and 64 MiB of ring at most. */
const MAX_POINTS = 8 * 1024 * 1024;

export class RingHash implements LoadBalancer {
  /** Sorted point hashes; `hostOf[i]` is the host of `points[i]`. */
  private readonly points: Uint32Array;
  private readonly hostOf: Uint32Array;

  constructor(hosts: readonly LbHost[], ringSize: number, private readonly random: () => number) {
    let total = 0;
    for (const h of hosts) total += h.weight;
    const perWeight = Math.min(ringSize * hosts.length, MAX_POINTS) / total;
    const counts = hosts.map((h) => Math.max(1, Math.round(h.weight * perWeight)));
    let size = 0;
    for (const c of counts) size += c;
    const sorted = new Float64Array(size);
    let at = 0;
    for (let h = 0; h < hosts.length; h++) {
      const key = (hosts[h] as LbHost).key;
      const c = counts[h] as number;
      for (let i = 0; i < c; i++) sorted[at++] = hash32(`${key}_${i}`) * HOST_BITS + h;
    }
    sorted.sort();
    this.points = new Uint32Array(size);
    this.hostOf = new Uint32Array(size);
    for (let i = 0; i < size; i++) {
      const v = sorted[i] as number;
      const h = v % HOST_BITS;
      this.points[i] = (v - h) / HOST_BITS;
      this.hostOf[i] = h;
    }
  }

  pick(hash: number): number {
    if (hash < 0) hash = (this.random() * 4294967296) >>> 0;
    const p = this.points;
    // The first point >= hash; past the last point, wrap to the first.
    let lo = 0;
    let hi = p.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((p[mid] as number) < hash) lo = mid + 1;
      else hi = mid;
    }
    return this.hostOf[lo === p.length ? 0 : lo] as number;
  }
}

export const ringHash: LoadBalancerFactory = {
  name: 'ringHash',
  create(hosts: readonly LbHost[], opts: LbOptions): LoadBalancer {
    return hosts.length === 1 ? ONLY_HOST : new RingHash(hosts, opts.ringSize, opts.random);
  },
};
