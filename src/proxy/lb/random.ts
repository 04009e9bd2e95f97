/**
 * Random: each pick draws a host with probability weight / Σweights. Equal weights take one
 * multiply; otherwise a binary search over the prefix sums of the weights.
 */
import type { LbHost, LbOptions, LoadBalancer, LoadBalancerFactory } from './types.js';
import { equalWeights, firstAbove, ONLY_HOST, prefixSums } from './shared.js';

export class UniformRandom implements LoadBalancer {
  constructor(private readonly count: number, private readonly random: () => number) {}

  pick(): number {
    return (this.random() * this.count) | 0;
  }
}

export class WeightedRandom implements LoadBalancer {
  /** `prefix[i]`: the weights of hosts 0..i together; the last is Σweights. */
  private readonly prefix: Float64Array;

  constructor(hosts: readonly LbHost[], private readonly random: () => number) {
    this.prefix = prefixSums(hosts);
  }

  pick(): number {
    const p = this.prefix;
    return firstAbove(p, this.random() * (p[p.length - 1] as number));
  }
}

export const random: LoadBalancerFactory = {
  name: 'random',
  create(hosts: readonly LbHost[], opts: LbOptions): LoadBalancer {
    if (hosts.length === 1) return ONLY_HOST;
    return equalWeights(hosts) ? new UniformRandom(hosts.length, opts.random) : new WeightedRandom(hosts, opts.random);
  },
};
