/**
 * The admin endpoint's requests (epoch → supervisor). An epoch serves the admin API, but what
 * an operator asks of the host outlives the epoch that took the request: the health-check
 * flag, the drain and the stop belong to the supervisor, so `status`, later reloads and the
 * next epoch agree with what the operator asked. An older supervisor answers unrecognized.
 * `/drain_listeners` and `/quitquitquit` send the command line's own requests (`drainHost`,
 * `stop`), which the supervisor takes from its epochs too.
 */

/**
 * The operator's intent for the host that rides with every config an epoch receives
 * (getConfig, activate), so a new epoch starts with it. Absent (an older supervisor): false.
 */
export interface HostIntent {
  /** `POST /healthcheck/fail` is in force: `/ready` answers 503 until `/healthcheck/ok`. */
  hostHealthFailed?: boolean;
}

/** `POST /healthcheck/fail` (failed: true) and `/healthcheck/ok` (false). */
export interface HostHealthRequest {
  type: 'hostHealth';
  failed: boolean;
}

export interface HostHealthReply {
  type: 'hostHealth';
  failed: boolean;
}
