/**
 * Maglev (Eisenbud et al., NSDI 2016): a lookup table of a prime `maglevTableSize` entries,
 * filled by the hosts in turns. Each host walks its own permutation of the slots,
 * offset, offset + skip, offset + 2·skip, … (mod size), with offset and skip from two hashes
 * of its key, and on its turn takes the next slot of it still free. A pick is one table read,
 * and each host holds close to an equal share of the slots (or a weighted one, below).
 *
 * Weights, as Envoy weighs Maglev: a turn costs the largest weight, and each round credits
 * every host its own weight, so a host of half the largest weight takes a slot every other
 * round. Its share of the table, and so of the keys, follows its weight.
 *
 * A membership change leaves most keys where they were but not all: the hosts that stayed
 * fill slots in a different order (see the bounds in test/lb-hash.test.ts).
 */
import { murmur3 } from './hash.js';
import type { LbHost, LbOptions, LoadBalancer, LoadBalancerFactory } from './types.js';
import { ONLY_HOST } from './shared.js';

const OFFSET_SEED = 0;
const SKIP_SEED = 0x2545f491;

export class Maglev implements LoadBalancer {
  /** Slot → host index. */
  private readonly table: Int32Array;

  constructor(hosts: readonly LbHost[], size: number, private readonly random: () => number) {
    const n = hosts.length;
    const table = new Int32Array(size).fill(-1);
    const next = new Float64Array(n); // the next slot of each host's permutation
    const skip = new Float64Array(n);
    const credit = new Float64Array(n);
    let maxWeight = 0;
    for (let i = 0; i < n; i++) {
      const h = hosts[i] as LbHost;
      next[i] = murmur3(h.key, OFFSET_SEED) % size;
      skip[i] = (murmur3(h.key, SKIP_SEED) % (size - 1)) + 1;
      if (h.weight > maxWeight) maxWeight = h.weight;
    }
    let filled = 0;
    while (filled < size) {
      for (let i = 0; i < n && filled < size; i++) {
        const c = (credit[i] as number) + (hosts[i] as LbHost).weight;
        if (c < maxWeight) {
          credit[i] = c;
          continue;
        }
        credit[i] = c - maxWeight;
        // The size is prime, so the permutation reaches every slot: a free one is found.
        const s = skip[i] as number;
        let slot = next[i] as number;
        while ((table[slot] as number) >= 0) {
          slot += s;
          if (slot >= size) slot -= size;
        }
        table[slot] = i;
        slot += s;
        next[i] = slot >= size ? slot - size : slot;
        filled++;
      }
    }
    this.table = table;
  }

  pick(hash: number): number {
    const t = this.table;
    return (hash < 0 ? t[(this.random() * t.length) | 0] : t[hash % t.length]) as number;
  }
}

export const maglev: LoadBalancerFactory = {
  name: 'maglev',
  create(hosts: readonly LbHost[], opts: LbOptions): LoadBalancer {
    return hosts.length === 1 ? ONLY_HOST : new Maglev(hosts, opts.maglevTableSize, opts.random);
  },
};
