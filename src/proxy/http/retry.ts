/**
 * A route's timeout and retry policy for an upstream exchange: which failures and statuses a
 * `retryPolicy` retries, how long to wait before the next try, and `PolicyRun`, the deadlines
 * and retry count of one exchange. The exchange (exchange.ts) owns the sockets and answers;
 * a retry is only possible while it is safe: the whole request was in the first write and
 * nothing of the response went downstream.
 */
import type { RetryPolicyConfig } from '../../config/types-router.js';
import type { RandomSource } from '../router/types.js';
import type { ClusterStats } from '../types.js';
import { BudgetSlot } from '../../clusters/types.js';
import type { ClusterRuntime } from '../upstream/cluster.js';

/**
 * What one exchange applies on top of the codec's own timers. A `RouteInfo` is one as it is,
 * so a connection manager passes its route decision's `route`.
 */
export interface ExchangePolicy {
  /** From `start` to the end of the response, retries included; null or 0 = none (only the owner's timer). */
  readonly timeoutMs: number | null;
  /** From each try's start to its response head; null or 0 = none. */
  readonly perTryTimeoutMs: number | null;
  readonly retryPolicy: RetryPolicyConfig | null;
}

/** `p` when it asks for anything, else null: a route without timeouts or retries costs nothing per request. */
export function policyOf(p: ExchangePolicy): ExchangePolicy | null {
  return (p.timeoutMs !== null && p.timeoutMs > 0) || (p.perTryTimeoutMs !== null && p.perTryTimeoutMs > 0) || p.retryPolicy !== null ? p : null;
}

/** How a try failed before a usable response head. */
export const enum Failure {
  /** The upstream connection closed before it connected (refused, unreachable, TLS handshake). */
  ConnectFailure,
  /** Connected, then closed before a complete response head. */
  Reset,
  /** No response head within `perTryTimeoutMs`. */
  PerTryTimeout,
}

/** Whether `rp` retries a try that failed as `f`. `5xx` and `gateway-error` include every failure. */
export function retriesFailure(rp: RetryPolicyConfig, f: Failure): boolean {
  const on = rp.retryOn;
  if (on.includes('5xx') || on.includes('gateway-error')) return true;
  if (f === Failure.ConnectFailure) return on.includes('connect-failure');
  if (f === Failure.Reset) return on.includes('reset');
  return false;
}

/** Whether `rp` retries a response head with `status`. */
export function retriesStatus(rp: RetryPolicyConfig, status: number): boolean {
  const on = rp.retryOn;
  if (status >= 500 && on.includes('5xx')) return true;
  if ((status === 502 || status === 503 || status === 504) && on.includes('gateway-error')) return true;
  if (status === 409 && on.includes('retriable-4xx')) return true;
  return on.includes('retriable-status-codes') && rp.retriableStatusCodes.includes(status);
}

/**
 * Milliseconds to wait before retry number `attempt` + 1 (attempt 0 is the first retry):
 * exponential backoff with full jitter, uniform in [0, min(maxMs, baseMs × 2^attempt)].
 * Full jitter spreads the retries of many clients that failed at the same moment.
 */
export function backoffMs(backoff: RetryPolicyConfig['backoff'], attempt: number, random: RandomSource): number {
  const cap = Math.min(backoff.maxMs, backoff.baseMs * 2 ** attempt);
  return Math.floor(random() * (cap + 1));
}

/** What a `PolicyRun` asks of its exchange. Called from the run's timers only. */
export interface TryHost {
  /** The backoff is over: send `request` again, to a host the load balancer picks (another one if it can). */
  nextTry(request: Buffer): void;
  /** No response head within the per-try timeout. */
  tryTimedOut(): void;
  /** The route timeout passed. */
  routeTimedOut(): void;
}

/** What the policy says after a failed try. */
export const enum Verdict {
  /** Not retried: answer as without a policy. */
  Fail,
  /** A retry is scheduled: close the try's connection and wait. */
  Retry,
  /** The policy retries this, but no retries are left: answer, flagged `URX`. */
  Exhausted,
}

/**
 * A route policy applied to one exchange: its deadlines (Node timers, armed only for what the
 * policy sets) and its retries. Made by `start` for a policed request and cleared when the
 * exchange ends, is abandoned or fails for good; a cleared run holds no timer.
 */
export class PolicyRun {
  /** The whole request while a retry is still possible; null once one is not (a body follows, or an interim head went out). */
  private request: Buffer | null;
  private retries = 0;
  /** This exchange holds one of the cluster's `maxRetries` places (from its first retry until it ends). */
  private holdsRetry = false;
  private routeTimer: NodeJS.Timeout | null = null;
  private tryTimer: NodeJS.Timeout | null = null;
  private backoffTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly host: TryHost,
    private readonly cluster: ClusterRuntime,
    head: Buffer,
    moreBody: boolean,
    private readonly policy: ExchangePolicy,
    private readonly random: RandomSource,
  ) {
    const rp = policy.retryPolicy;
    this.request = rp !== null && rp.numRetries > 0 && !moreBody ? head : null;
    const ms = policy.timeoutMs;
    if (ms !== null && ms > 0) this.routeTimer = setTimeout(PolicyRun.routeExpired, ms, this);
  }

  /** At least one retry was sent. */
  get retried(): boolean {
    return this.retries > 0;
  }

  /** A try was written: its per-try deadline starts. */
  tryStarted(): void {
    const ms = this.policy.perTryTimeoutMs;
    if (ms !== null && ms > 0) this.tryTimer = setTimeout(PolicyRun.tryExpired, ms, this);
  }

  /** The try's final response head arrived: its per-try deadline is met. */
  headArrived(): void {
    this.clearTryTimer();
  }

  /** Something of the response went downstream: this try's answer is the answer. */
  committed(): void {
    this.request = null;
  }

  /** The try failed as `f` before a response head. */
  afterFailure(f: Failure, stats: ClusterStats): Verdict {
    const rp = this.policy.retryPolicy;
    if (this.request === null || rp === null || !retriesFailure(rp, f)) return Verdict.Fail;
    return this.retry(rp, stats);
  }

  /** The try's final response head has `status`; nothing of it went downstream. */
  afterStatus(status: number, stats: ClusterStats): Verdict {
    const rp = this.policy.retryPolicy;
    if (this.request === null || rp === null || !retriesStatus(rp, status)) return Verdict.Fail;
    return this.retry(rp, stats);
  }

  /** No more tries and no more deadlines. */
  clear(): void {
    this.clearTryTimer();
    if (this.routeTimer !== null) {
      clearTimeout(this.routeTimer);
      this.routeTimer = null;
    }
    if (this.backoffTimer !== null) {
      clearTimeout(this.backoffTimer);
      this.backoffTimer = null;
    }
    this.request = null;
    if (this.holdsRetry) {
      this.holdsRetry = false;
      Atomics.sub(this.cluster.budget.counters, BudgetSlot.RETRIES, 1);
    }
  }

  private retry(rp: RetryPolicyConfig, stats: ClusterStats): Verdict {
    if (this.retries >= rp.numRetries) return Verdict.Exhausted;
    if (!this.holdsRetry) {
      // Envoy's max_retries: retries under way over the cluster. Past it the failure is answered as it is.
      const budget = this.cluster.budget;
      if (Atomics.load(budget.counters, BudgetSlot.RETRIES) >= budget.limits.maxRetries) {
        stats.rqRetryOverflow.inc();
        return Verdict.Fail;
      }
      Atomics.add(budget.counters, BudgetSlot.RETRIES, 1);
      this.holdsRetry = true;
    }
    this.clearTryTimer();
    stats.rqRetry.inc();
    this.backoffTimer = setTimeout(PolicyRun.backoffDone, backoffMs(rp.backoff, this.retries, this.random), this);
    this.retries++;
    return Verdict.Retry;
  }

  private clearTryTimer(): void {
    if (this.tryTimer !== null) {
      clearTimeout(this.tryTimer);
      this.tryTimer = null;
    }
  }

  // Timer callbacks take the run as their argument: arming a timer allocates nothing else.

  private static backoffDone(run: PolicyRun): void {
    run.backoffTimer = null;
    if (run.request !== null) run.host.nextTry(run.request);
  }

  private static tryExpired(run: PolicyRun): void {
    run.tryTimer = null;
    run.host.tryTimedOut();
  }

  private static routeExpired(run: PolicyRun): void {
    run.routeTimer = null;
    run.host.routeTimedOut();
  }
}
