/**
 * Success-rate outliers, as Envoy judges them: over the hosts that carried enough requests in
 * the interval, a host whose success rate is below mean − stdevFactor × stdev (population
 * standard deviation) is an outlier. With fewer than `minimumHosts` such hosts nobody is judged,
 * since a mean over two or three hosts says little about any one of them.
 */
import type { SuccessRateConfig } from '../../config/types-cluster.js';

/*
 * Hosts with equal rates must never be outliers, but a float mean of equal values can land an
 * ulp above them (six times 95/100), which with a small stdevFactor (0.1) puts the threshold above
 * them too. Rates closer than this to the threshold are not outliers.
 */
const EPSILON = 1e-9;

/** One host's interval, as read (and reset) from its shared counters. */
export interface RateSample {
  readonly requests: number;
  readonly successes: number;
}

/**
 * The rate (successes / requests, 0..1) below which a judged host is an outlier, or -1 when too
 * few hosts reached `requestVolume` (nobody is an outlier then).
 */
export function successRateThreshold(samples: readonly RateSample[], cfg: SuccessRateConfig): number {
  let n = 0;
  let sum = 0;
  for (const s of samples) {
    if (!isJudged(s, cfg)) continue;
    n++;
    sum += s.successes / s.requests;
  }
  if (n === 0 || n < cfg.minimumHosts) return -1;
  const mean = sum / n;
  // Two passes, not sum of squares − mean²: that difference cancels badly when rates are close.
  let squares = 0;
  for (const s of samples) {
    if (!isJudged(s, cfg)) continue;
    const d = s.successes / s.requests - mean;
    squares += d * d;
  }
  return mean - cfg.stdevFactor * Math.sqrt(squares / n) - EPSILON;
}

/** Whether `s` carried enough requests to be judged. */
export function isJudged(s: RateSample, cfg: SuccessRateConfig): boolean {
  return s.requests > 0 && s.requests >= cfg.requestVolume;
}
