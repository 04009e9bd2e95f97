/** What several policies share: facts about the hosts computed once per build, and the one-host policy. */
import type { LbHost, LoadBalancer } from './types.js';

/** True when every host has the same weight: the policies then skip weights altogether. */
export function equalWeights(hosts: readonly LbHost[]): boolean {
  const w = (hosts[0] as LbHost).weight;
  for (let i = 1; i < hosts.length; i++) if ((hosts[i] as LbHost).weight !== w) return false;
  return true;
}

/** A uniform index in 0..n-1 from `random()` in [0, 1). */
export function randomIndex(random: () => number, n: number): number {
  return (random() * n) | 0;
}

/** `prefix[i]`: the weights of hosts 0..i together; the last is Σweights. */
export function prefixSums(hosts: readonly LbHost[]): Float64Array {
  const p = new Float64Array(hosts.length);
  let sum = 0;
  for (let i = 0; i < hosts.length; i++) p[i] = sum += (hosts[i] as LbHost).weight;
  return p;
}

/** The first i with `prefix[i] > x`, for x in [0, Σ): the host whose slice of [0, Σ) holds x. */
export function firstAbove(prefix: Float64Array, x: number): number {
  let lo = 0;
  let hi = prefix.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((prefix[mid] as number) > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** With one host there is nothing to choose: every policy built over one host is this one. */
export const ONLY_HOST: LoadBalancer = Object.freeze({
  pick(): number {
    return 0;
  },
});
