/**
 * The worker side of passive outlier detection: after each try's response (or local failure),
 * the worker that saw it updates the host's shared counters (clusters/types.ts `HostSlot`).
 * Every worker of the epoch updates the same slots, so a run of failures is counted across
 * workers; the one whose increment makes a run EQUAL its threshold is told so and posts the
 * event to the main thread, which decides (clusters/outlier/detector.ts). Increments past the
 * threshold return nothing, so each run is reported once until the main thread resets it.
 *
 * Hot path: one call per try, no allocation, a handful of Atomics ops.
 */
import { HostSlot, type OutlierKind } from '../../clusters/types.js';

/*
 * Pseudo-statuses for tries that got no response. They are negative so no real status can
 * collide; for outlier detection each counts as a 503 (a 5xx and a gateway failure).
 */
/** The connection to the host could not be made (refused, unreachable, TLS handshake failed). */
export const LOCAL_CONNECT_FAILURE = -1;
/** The connection was reset or closed before a whole response head arrived. */
export const LOCAL_RESET = -2;
/** The try timed out waiting for the host. */
export const LOCAL_TIMEOUT = -3;

/** The thresholds a worker needs; 0 turns a detector off. */
export interface OutlierThresholds {
  readonly consecutive5xx: number;
  readonly consecutiveGatewayFailure: number;
}

/**
 * Records one outcome in `counters` (HOST_SLOTS slots). `status`: the response status, or one
 * of the LOCAL_* constants. `cfg` null (the cluster has no outlier detection): nothing is
 * recorded. Returns the run whose threshold this call reached, or null; when both reach theirs
 * at once, `consecutive5xx` (and a gateway crossing while the 5xx run is already past its
 * threshold returns null: see below).
 */
export function recordOutcome(counters: Int32Array, status: number, cfg: OutlierThresholds | null): OutlierKind | null {
  if (cfg === null) return null;
  Atomics.add(counters, HostSlot.REQUESTS, 1);
  if (status >= 0 && status < 500) {
    Atomics.add(counters, HostSlot.SUCCESSES, 1);
    // Load before store: with a healthy host the slots stay 0, and a plain load keeps the cache
    // line shared between the workers' cores instead of bouncing it on every response.
    if (Atomics.load(counters, HostSlot.CONSECUTIVE_5XX) !== 0) Atomics.store(counters, HostSlot.CONSECUTIVE_5XX, 0);
    if (Atomics.load(counters, HostSlot.CONSECUTIVE_GATEWAY) !== 0) Atomics.store(counters, HostSlot.CONSECUTIVE_GATEWAY, 0);
    return null;
  }
  const t5xx = cfg.consecutive5xx;
  if (t5xx !== 0 && Atomics.add(counters, HostSlot.CONSECUTIVE_5XX, 1) + 1 === t5xx) {
    if (isGatewayFailure(status)) addGatewayFailure(counters, cfg.consecutiveGatewayFailure);
    return 'consecutive5xx';
  }
  if (!isGatewayFailure(status)) {
    if (Atomics.load(counters, HostSlot.CONSECUTIVE_GATEWAY) !== 0) Atomics.store(counters, HostSlot.CONSECUTIVE_GATEWAY, 0);
    return null;
  }
  if (!addGatewayFailure(counters, cfg.consecutiveGatewayFailure)) return null;
  /*
   * Every gateway failure is first counted as a 5xx, so the gateway run is never longer than
   * the 5xx run. If the 5xx run is at or past its threshold, the worker that reached it has
   * reported (or is reporting) the host, and the main thread's handling resets both runs: a
   * second report would say nothing new. Checking here, after both increments, makes that
   * hold across threads too (with equal thresholds only the 5xx crossing is ever posted).
   * The 5xx crossing itself is never held back, so no run goes unreported.
   */
  if (t5xx !== 0 && Atomics.load(counters, HostSlot.CONSECUTIVE_5XX) >= t5xx) return null;
  return 'consecutiveGatewayFailure';
}

function isGatewayFailure(status: number): boolean {
  return status < 0 || status === 502 || status === 503 || status === 504;
}

/** Counts one gateway failure; true if it made the run equal `threshold` (0: off, never). */
function addGatewayFailure(counters: Int32Array, threshold: number): boolean {
  return threshold !== 0 && Atomics.add(counters, HostSlot.CONSECUTIVE_GATEWAY, 1) + 1 === threshold;
}
