// Interim: replaced by the policies' index when they land (helper branch feat/lb).
import type { LbPolicyName } from '../../config/types.js';
import type { LoadBalancerFactory } from './types.js';

const interimRoundRobin: LoadBalancerFactory = {
  name: 'roundRobin',
  create(hosts) {
    let next = 0;
    return { pick: () => { const i = next; next = (next + 1) % hosts.length; return i; } };
  },
};

export const LB_POLICIES: Readonly<Record<LbPolicyName, LoadBalancerFactory>> = {
  roundRobin: interimRoundRobin,
  leastRequest: interimRoundRobin,
  random: interimRoundRobin,
  ringHash: interimRoundRobin,
  maglev: interimRoundRobin,
};
export { hash32, slowStartFactor } from './interim-hash.js';
