/**
 * Round robin. Equal weights: a cursor. Unequal (or fractional) weights: nginx's smooth
 * weighted round robin, which spreads a heavy host's turns between the others' (weights
 * 5,1,1 give a a b a c a a), where a plain weighted cursor would send it 5 in a row.
 *
 * Why nginx's algorithm and not an EDF scheduler: it takes fractional weights as they are
 * (slow start makes them so), and over Σw picks of integer weights each host gets exactly its
 * weight, interleaved as above; an EDF scheduler breaks the ties of equal deadlines by queue
 * order and gives a a a a then the rest for 5,1,1. nginx's pick is O(hosts), but with integer
 * weights (every configured weight is one) its picks repeat every Σw, so the policy plays one
 * precomputed cycle with a cursor: as cheap as equal weights (bench/lb.ts, 100 hosts: 4.6 ns
 * a pick against 388 ns live). Only fractional weights, or a cycle too long to precompute,
 * run the live algorithm.
 *
 * Each policy starts at a random point of its cycle, so that workers building the same policy
 * at the same moment do not all send their first request to the same host.
 */
import type { LbHost, LbOptions, LoadBalancer, LoadBalancerFactory } from './types.js';
import { equalWeights, ONLY_HOST, randomIndex } from './shared.js';

/** Equal weights: host i, then i+1, wrapping. */
export class RoundRobinCursor implements LoadBalancer {
  private next: number;

  constructor(private readonly count: number, start: number) {
    this.next = start;
  }

  pick(): number {
    const i = this.next;
    // A compare beats `%` here and keeps the index a small integer.
    this.next = i + 1 === this.count ? 0 : i + 1;
    return i;
  }
}

/**
 * nginx's smooth weighted round robin: each pick adds every host's weight to its running
 * `current`, takes the host with the largest (the first on a tie) and takes the total weight
 * off it. The `current`s always sum to 0, so no host drifts ahead.
 */
export class SmoothWeightedRoundRobin implements LoadBalancer {
  private readonly weights: Float64Array;
  private readonly current: Float64Array;
  private readonly total: number;

  constructor(hosts: readonly LbHost[], skip: number) {
    const n = hosts.length;
    this.weights = new Float64Array(n);
    this.current = new Float64Array(n);
    let total = 0;
    for (let i = 0; i < n; i++) total += this.weights[i] = (hosts[i] as LbHost).weight;
    this.total = total;
    for (let i = 0; i < skip; i++) this.pick();
  }

  pick(): number {
    const w = this.weights;
    const cur = this.current;
    let best = 0;
    let max = -Infinity;
    for (let i = 0; i < w.length; i++) {
      const c = (cur[i] as number) + (w[i] as number);
      cur[i] = c;
      if (c > max) {
        max = c;
        best = i;
      }
    }
    cur[best] = max - this.total;
    return best;
  }
}

/** Integer weights: the precomputed cycle, host order[i], then order[i + 1], wrapping. */
export class RoundRobinSchedule implements LoadBalancer {
  private next: number;

  constructor(private readonly order: Uint32Array, start: number) {
    this.next = start;
  }

  pick(): number {
    const i = this.next;
    this.next = i + 1 === this.order.length ? 0 : i + 1;
    return this.order[i] as number;
  }
}

/**
 * Precomputing a cycle costs one cycle of live picks, Σw × hosts steps, so it pays for itself
 * within Σw picks; the cap bounds how long a build holds the event loop: 6.4 ms for 128 hosts
 * of the largest weight, 128, which just fit (bench/lb.ts, a loaded 2-core VM).
 */
const MAX_SCHEDULE_STEPS = 1 << 21;

/** The cycle of nginx's picks for integer weights, or null (fractional weights, or too long to compute). */
function smoothCycle(hosts: readonly LbHost[]): Uint32Array | null {
  let total = 0;
  for (const h of hosts) {
    if (!Number.isInteger(h.weight)) return null;
    total += h.weight;
  }
  if (total * hosts.length > MAX_SCHEDULE_STEPS) return null;
  const live = new SmoothWeightedRoundRobin(hosts, 0);
  const order = new Uint32Array(total);
  for (let i = 0; i < total; i++) order[i] = live.pick();
  return order;
}

/**
 * The live algorithm has no cycle to start in at random (fractional weights need not repeat):
 * it skips a random number of picks, up to Σw / min(w) (about one round of the lightest host),
 * capped at MAX_START_STEPS loop steps (~1 ms on the bench box) so a build stays cheap.
 */
function smoothStart(hosts: readonly LbHost[], random: () => number): number {
  let total = 0;
  let min = Infinity;
  for (const h of hosts) {
    total += h.weight;
    if (h.weight < min) min = h.weight;
  }
  return randomIndex(random, Math.max(1, Math.min(Math.ceil(total / min), Math.floor(MAX_START_STEPS / hosts.length))));
}

const MAX_START_STEPS = 1 << 18;

export const roundRobin: LoadBalancerFactory = {
  name: 'roundRobin',
  create(hosts: readonly LbHost[], opts: LbOptions): LoadBalancer {
    if (hosts.length === 1) return ONLY_HOST;
    if (equalWeights(hosts)) return new RoundRobinCursor(hosts.length, randomIndex(opts.random, hosts.length));
    const cycle = smoothCycle(hosts);
    if (cycle !== null) return new RoundRobinSchedule(cycle, randomIndex(opts.random, cycle.length));
    return new SmoothWeightedRoundRobin(hosts, smoothStart(hosts, opts.random));
  },
};
