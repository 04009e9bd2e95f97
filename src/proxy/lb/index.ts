/** The load-balancing policies by config name (contract: types.ts), and what the cluster runtime uses beside them. */
import type { LbPolicyName } from '../../config/types.js';
import { leastRequest } from './least-request.js';
import { maglev } from './maglev.js';
import { random } from './random.js';
import { ringHash } from './ring-hash.js';
import { roundRobin } from './round-robin.js';
import type { LoadBalancerFactory } from './types.js';

export const LB_POLICIES: Readonly<Record<LbPolicyName, LoadBalancerFactory>> = Object.freeze({
  roundRobin,
  leastRequest,
  random,
  ringHash,
  maglev,
});

export { leastRequest, maglev, random, ringHash, roundRobin };
export { hash32, murmur3 } from './hash.js';
export { slowStartFactor } from './slow-start.js';
export type * from './types.js';
