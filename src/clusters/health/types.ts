/**
 * The seam between the per-host state machine (checker.ts, verdict.ts) and the protocol that
 * makes one check (http.ts, tcp.ts), as Envoy splits health_checker_impl.cc: a probe knows how
 * to ask a host once and says how it went; it knows nothing of thresholds, intervals or
 * deadlines. The checker owns the deadline: it cancels a run that is late and counts a timeout.
 */
import type { CheckTarget } from '../types.js';

/** How one check went. */
export interface CheckOutcome {
  readonly pass: boolean;
  /** A pass whose answer carried `x-envoy-degraded`. Always false for a failure. */
  readonly degraded: boolean;
  /** The host could not be talked to (refused, reset, closed early, TLS failed, timed out). */
  readonly network: boolean;
  /** For the log: `status 200`, `connected`, `refused`, `timeout`, ... */
  readonly reason: string;
}

/** One check in flight. */
export interface ProbeRun {
  /** Closes the check's socket; its `done` is not called afterwards. */
  cancel(): void;
}

/** Makes single checks of one cluster's hosts with one protocol. */
export interface Probe {
  /** Starts a check of `target`; `done` is called once, later (never from inside `start`), unless `cancel()` came first. */
  start(target: CheckTarget, done: (outcome: CheckOutcome) => void): ProbeRun;
}

export const PASSED: CheckOutcome = Object.freeze({ pass: true, degraded: false, network: false, reason: 'connected' });
export const TIMED_OUT: CheckOutcome = Object.freeze({ pass: false, degraded: false, network: true, reason: 'timeout' });
