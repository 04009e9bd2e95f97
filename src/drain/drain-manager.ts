/**
 * DrainManager: the epoch main thread's drain state machine. It owns the deadlines that span
 * workers (parent shutdown, hurry's backstop, the exit once every worker is idle); each
 * worker's data plane owns the per-connection ones (drain points, the drain deadline, hurry's
 * grace).
 *
 *   serving ──drain(exit:false)──▶ draining ──drain(exit:true)──┐
 *      │                                                        ▼
 *      └──drain(exit:true) / hurry──────────────────────▶ draining, exit mode ──idle / deadline──▶ exit 0
 *   terminate, from any state: close everything, exit 0
 */
import type { Logger } from '../log.js';
import type { DrainController, DrainHooks, DrainParams, DrainTarget } from './types.js';

/**
 * After hurry's grace each worker's plane closes what remains by itself; if a worker has not
 * reported idle this much later, the manager closes and exits anyway.
 */
const HURRY_BACKSTOP_MS = 500;

/**
 * How much of the end of the drain time is kept free of HTTP drain points: a quarter, at most
 * this. A busy keep-alive connection whose point falls there would otherwise still be open at
 * the deadline, look idle between two of its requests, and be closed as idle while its next
 * request is on the wire. With points spread over the whole window, 20 reloads under
 * keep-alive load (test/hot-restart-reload.test.ts) lost about one request; with this margin
 * every busy connection has said `Connection: close` well before the deadline.
 */
const DRAIN_MARGIN_MAX_MS = 1_000;

/** The window HTTP drain points are spread over (see DRAIN_MARGIN_MAX_MS). */
export function drainSpreadMs(drainTimeMs: number): number {
  return drainTimeMs - Math.min(drainTimeMs / 4, DRAIN_MARGIN_MAX_MS);
}

export class DrainManager implements DrainController {
  #draining = false;
  #exitMode = false;
  /** Set once the exit is decided; nothing is started after it. */
  #finished = false;
  #drainDeadlineAt = Infinity;
  #shutdownAt = Infinity;
  #shutdownTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly target: DrainTarget,
    private readonly hooks: DrainHooks,
    private readonly log: Logger,
  ) {}

  get draining(): boolean {
    return this.#draining;
  }

  get exitMode(): boolean {
    return this.#exitMode;
  }

  drain(params: DrainParams): void {
    if (this.#finished) return;
    const now = Date.now();
    const deadlineAt = now + params.drainTimeMs;
    const first = !this.#draining;
    this.#begin();
    // The planes merge a repeat (sooner deadlines win), so passing it on is always safe. TCP
    // connections are closed at the drain deadline: after it the epoch only waits for HTTP.
    this.target.drain({ strategy: params.strategy, drainTimeMs: drainSpreadMs(params.drainTimeMs), deadlineAt, forceAtDeadline: true });
    if (first) this.log.info('drain started', { strategy: params.strategy, drainTimeMs: params.drainTimeMs, spreadMs: drainSpreadMs(params.drainTimeMs), exit: params.exit, parentShutdownTimeMs: params.exit ? params.parentShutdownTimeMs : undefined });
    else if (deadlineAt < this.#drainDeadlineAt || (params.exit && !this.#exitMode)) this.log.info('drain updated', { drainTimeMs: params.drainTimeMs, exit: params.exit });
    this.#drainDeadlineAt = Math.min(this.#drainDeadlineAt, deadlineAt);
    if (params.exit) this.#enterExitMode(now + params.parentShutdownTimeMs);
  }

  #begin(): void {
    if (this.#draining) return;
    this.#draining = true;
    this.hooks.drainStarted();
  }

  hurry(graceMs: number): void {
    if (this.#finished) return;
    this.#begin();
    this.log.info('drain hurried', { graceMs });
    this.target.hurry(graceMs);
    this.#enterExitMode(Date.now() + graceMs + HURRY_BACKSTOP_MS);
  }

  terminate(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#begin();
    this.#clearTimer();
    if (!this.#exitMode) {
      this.#exitMode = true;
      this.hooks.closeAdmin();
    }
    void this.target.closeAll('terminate').then((count) => {
      this.log.info('terminated: connections closed', { count });
      this.hooks.exit(0, 'terminate');
    });
  }

  #enterExitMode(shutdownAt: number): void {
    if (!this.#exitMode) {
      this.#exitMode = true;
      this.hooks.closeAdmin();
      void this.target.whenIdle().then(() => this.#finish());
    }
    if (shutdownAt < this.#shutdownAt) {
      this.#shutdownAt = shutdownAt;
      this.#clearTimer();
      this.#shutdownTimer = setTimeout(this.#onShutdownDeadline, Math.max(0, shutdownAt - Date.now()));
    }
  }

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#clearTimer();
    this.log.info('drained: no connection left');
    this.hooks.exit(0, 'drained');
  }

  readonly #onShutdownDeadline = (): void => {
    this.#shutdownTimer = null;
    if (this.#finished) return;
    this.#finished = true;
    void this.target.closeAll('parent-shutdown').then((count) => {
      this.log.info('shutdown deadline: remaining connections closed', { count });
      this.hooks.exit(0, 'parent-shutdown');
    });
  };

  #clearTimer(): void {
    if (this.#shutdownTimer !== null) clearTimeout(this.#shutdownTimer);
    this.#shutdownTimer = null;
  }
}
