/** Round robin: each pick takes the next endpoint in order. Policy only; pools live elsewhere. */
import type { LoadBalancer, LoadBalancerFactory } from '../types.js';

export class RoundRobin implements LoadBalancer {
  private next = 0;

  constructor(private readonly count: number) {}

  pick(): number {
    const i = this.next;
    // A compare beats `%` here and keeps the index a small integer.
    this.next = i + 1 === this.count ? 0 : i + 1;
    return i;
  }
}

export const roundRobin: LoadBalancerFactory = {
  name: 'round_robin',
  create: (endpointCount) => new RoundRobin(endpointCount),
};
