/**
 * The admin endpoint's requests (epoch → supervisor). An epoch serves the admin API, but what
 * an operator asks of the host outlives the epoch that took the request: the health-check
 * flag, the drain and the stop belong to the supervisor, so `status`, later reloads and the
 * next epoch agree with what the operator asked. An older supervisor answers unrecognized.
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

/**
 * `POST /drain_listeners`: as `proxyctl drain`. `graceful`: drain with the config's strategy;
 * otherwise immediately. The reply comes once the listeners are closed.
 */
export interface AdminDrainRequest {
  type: 'adminDrain';
  graceful: boolean;
}

export interface AdminDrainReply {
  type: 'adminDrain';
  epoch: number;
  connections: number;
}

/** `POST /quitquitquit`: the whole proxyctl stops as with `proxyctl stop`. Answered at once. */
export interface AdminQuitRequest {
  type: 'adminQuit';
}

export interface AdminQuitReply {
  type: 'adminQuit';
  pid: number;
}
