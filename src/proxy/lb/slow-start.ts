/**
 * Slow start: a host that has just joined (or come back healthy) takes a share of its weight
 * that grows over the window, so a cold host is not handed its full share at once. The cluster
 * runtime multiplies each host's weight by this factor when it builds a policy.
 */
import type { SlowStartConfig } from '../../config/types.js';

/**
 * The weight factor in (0, 1] of a host taking traffic since `sinceMs` (both wall-clock ms):
 * max(minWeightPercent / 100, (elapsed / window)^(1 / aggression)), and 1 once the window has
 * passed. A `sinceMs` in the future (a clock step back) counts as just started.
 */
export function slowStartFactor(sinceMs: number, nowMs: number, cfg: SlowStartConfig): number {
  const elapsed = nowMs - sinceMs;
  if (elapsed >= cfg.windowMs) return 1;
  const min = cfg.minWeightPercent / 100;
  if (elapsed <= 0) return min;
  return Math.max(min, (elapsed / cfg.windowMs) ** (1 / cfg.aggression));
}
