/**
 * A host's verdict from its checks in a row, as Envoy judges it:
 * - `unknown` (never checked, nothing handed over): the first check decides, either way;
 * - healthy or degraded: `unhealthyThreshold` failures in a row make it unhealthy;
 * - unhealthy: `healthyThreshold` passes in a row make it healthy (or degraded);
 * - a pass of a host that is not unhealthy sets healthy or degraded by what the answer said.
 */
import type { HealthCheckConfig } from '../../config/types-cluster.js';
import type { ActiveHealth } from '../types.js';
import type { CheckOutcome } from './types.js';

export type Thresholds = Pick<HealthCheckConfig, 'healthyThreshold' | 'unhealthyThreshold'>;

export class Verdict {
  private passes = 0;
  private failures = 0;

  constructor(public health: ActiveHealth) {}

  /** Counts one check; returns true when `health` changed. */
  record(outcome: CheckOutcome, t: Thresholds): boolean {
    const before = this.health;
    if (outcome.pass) {
      this.failures = 0;
      this.passes++;
      const passing: ActiveHealth = outcome.degraded ? 'degraded' : 'healthy';
      if (before !== 'unhealthy' || this.passes >= t.healthyThreshold) this.health = passing;
    } else {
      this.passes = 0;
      this.failures++;
      if (before === 'unknown' || this.failures >= t.unhealthyThreshold) this.health = 'unhealthy';
    }
    return this.health !== before;
  }
}

/** Hosts that take traffic by their active checks. */
export function isUp(health: ActiveHealth): boolean {
  return health === 'healthy' || health === 'degraded';
}
