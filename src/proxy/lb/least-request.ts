/**
 * Least request, by the power of `choiceCount` choices: draw that many hosts at random (with
 * replacement, as Envoy does) and take the one with the fewest requests in flight over all
 * workers (`active[HostSlot.ACTIVE]`). Drawing a few rather than scanning all keeps a pick
 * O(choices) and keeps workers, which all read the same counters, from piling onto the
 * single least loaded host between two updates.
 *
 * Unequal weights: the draws are weighted (probability weight / Σweights) and the drawn hosts
 * compare by requests in flight per unit of weight, active / weight (a tie keeps the first
 * drawn). The fixed point is active ∝ weight at any load, and idle hosts (all 0) get plain
 * weighted random. Two alternatives did worse in a simulation with 1 to 200 requests in
 * flight: Envoy's effective weight, weight / (active + 1), over uniform draws gave one host of
 * weight 4 among nine of weight 1 about 60% of its share; the same over weighted draws
 * overshoots when idle (the heavier of two idle hosts always wins: weights 1,3 got 26% and
 * 125% of their shares). Active / weight kept every share within 5% but one (85%, the
 * 4-among-nine case at 5 in flight); test/lb.test.ts keeps those cases.
 *
 * The counters are read without Atomics: an aligned Int32Array element never tears, and a
 * count a few updates stale is as good a hint as a fresh one.
 */
import { HostSlot } from '../../clusters/types.js';
import type { LbHost, LbOptions, LoadBalancer, LoadBalancerFactory } from './types.js';
import { equalWeights, firstAbove, ONLY_HOST, prefixSums } from './shared.js';

const ACTIVE = HostSlot.ACTIVE;

export class LeastRequest implements LoadBalancer {
  private readonly actives: readonly Int32Array[];

  constructor(hosts: readonly LbHost[], private readonly choices: number, private readonly random: () => number) {
    this.actives = hosts.map(activeOf);
  }

  pick(): number {
    const actives = this.actives;
    const n = actives.length;
    let best = (this.random() * n) | 0;
    let bestActive = (actives[best] as Int32Array)[ACTIVE] as number;
    for (let c = 1; c < this.choices; c++) {
      const i = (this.random() * n) | 0;
      const a = (actives[i] as Int32Array)[ACTIVE] as number;
      if (a < bestActive) {
        best = i;
        bestActive = a;
      }
    }
    return best;
  }
}

export class WeightedLeastRequest implements LoadBalancer {
  private readonly actives: readonly Int32Array[];
  private readonly weights: Float64Array;
  private readonly prefix: Float64Array;
  private readonly total: number;

  constructor(hosts: readonly LbHost[], private readonly choices: number, private readonly random: () => number) {
    this.actives = hosts.map(activeOf);
    this.weights = Float64Array.from(hosts, weightOf);
    this.prefix = prefixSums(hosts);
    this.total = this.prefix[hosts.length - 1] as number;
  }

  pick(): number {
    const actives = this.actives;
    const w = this.weights;
    let best = firstAbove(this.prefix, this.random() * this.total);
    let bestActive = (actives[best] as Int32Array)[ACTIVE] as number;
    for (let c = 1; c < this.choices; c++) {
      const i = firstAbove(this.prefix, this.random() * this.total);
      const a = (actives[i] as Int32Array)[ACTIVE] as number;
      // a / w[i] < bestActive / w[best], without the divisions.
      if (a * (w[best] as number) < bestActive * (w[i] as number)) {
        best = i;
        bestActive = a;
      }
    }
    return best;
  }
}

function activeOf(h: LbHost): Int32Array {
  return h.active;
}

function weightOf(h: LbHost): number {
  return h.weight;
}

export const leastRequest: LoadBalancerFactory = {
  name: 'leastRequest',
  create(hosts: readonly LbHost[], opts: LbOptions): LoadBalancer {
    if (hosts.length === 1) return ONLY_HOST;
    return equalWeights(hosts) ? new LeastRequest(hosts, opts.choiceCount, opts.random) : new WeightedLeastRequest(hosts, opts.choiceCount, opts.random);
  },
};
