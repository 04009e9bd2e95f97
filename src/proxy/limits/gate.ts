/**
 * The per-worker side of the connection limits (types.ts). Counting is two Atomics.add on a
 * SharedArrayBuffer per accepted connection, and a cap is checked after the accept. Every
 * gate keeps an Atomics.waitAsync (which holds no event loop open) on each count it has a cap
 * for: the worker whose accept reaches a cap notifies, so the other workers pause too, and a
 * close that takes a count from its cap notifies, so they resume. Between an accept reaching
 * a cap and that wake-up another worker may accept, so an epoch with W workers can go past a
 * cap by at most W - 1 connections; it never resets one to keep it.
 */
import type { Counter, Gauge } from '../../shm/handles.js';
import type { StatsStore } from '../../shm/types.js';
import type { ConnectionLimitsInit, Pausable } from './types.js';

/** The stats of one listener's gate (`listener.<name>.*`). */
interface GateStats {
  /** Worker handles of this listener paused at a cap now (summed over workers). */
  readonly paused: Gauge;
  /** Times a worker stopped accepting on this listener because a cap was reached. */
  readonly pauses: Counter;
}

const OVERALL = 0;

export class ConnectionLimits {
  readonly #counts: Int32Array;
  readonly #overall: number;
  readonly #listeners: ConnectionLimitsInit['listeners'];

  constructor(init: ConnectionLimitsInit) {
    this.#counts = new Int32Array(init.counts);
    this.#overall = init.overall;
    this.#listeners = init.listeners;
  }

  /** The gate of listener `name`, or null when neither it nor the epoch has a cap. */
  gateFor(name: string, owner: Pausable, stats: StatsStore): ListenerGate | null {
    const l = this.#listeners[name];
    if (l === undefined || (l.cap === 0 && this.#overall === 0)) return null;
    const p = `listener.${name}.`;
    const gateStats = { paused: stats.gauge(`${p}downstream_cx_limit_paused`), pauses: stats.counter(`${p}downstream_cx_limit_pauses`) };
    return new ListenerGate(this.#counts, this.#overall, l.index, l.cap, owner, gateStats);
  }
}

export class ListenerGate {
  #paused = false;
  #stopped = false;
  /** A waitAsync is pending on the epoch's count, or on this listener's. */
  #waitingOverall = false;
  #waitingListener = false;

  constructor(
    private readonly counts: Int32Array,
    private readonly overall: number,
    private readonly index: number,
    private readonly cap: number,
    private readonly owner: Pausable,
    private readonly stats: GateStats,
  ) {
    this.#check();
  }

  /** Counts one accepted connection; pauses the owner (and wakes the other workers) when that reached a cap. */
  acquire(): void {
    const total = Atomics.add(this.counts, OVERALL, 1) + 1;
    const mine = Atomics.add(this.counts, this.index, 1) + 1;
    let reached = false;
    if (this.overall > 0 && total === this.overall) {
      Atomics.notify(this.counts, OVERALL);
      reached = true;
    }
    if (this.cap > 0 && mine === this.cap) {
      Atomics.notify(this.counts, this.index);
      reached = true;
    }
    if (reached || (this.overall > 0 && total > this.overall) || (this.cap > 0 && mine > this.cap)) this.#check();
  }

  /** Counts one closed connection; wakes the workers paused by a count this takes below its cap. */
  release(): void {
    const total = Atomics.sub(this.counts, OVERALL, 1);
    const mine = Atomics.sub(this.counts, this.index, 1);
    if (this.overall > 0 && total === this.overall) Atomics.notify(this.counts, OVERALL);
    if (this.cap > 0 && mine === this.cap) Atomics.notify(this.counts, this.index);
    if (this.#paused) this.#check();
  }

  /** The listener stops accepting for good (drain, shutdown): no more pausing or resuming. */
  stop(): void {
    this.#stopped = true;
    if (this.#paused) this.#unpause();
  }

  #atCap(): boolean {
    return (this.overall > 0 && Atomics.load(this.counts, OVERALL) >= this.overall) || (this.cap > 0 && Atomics.load(this.counts, this.index) >= this.cap);
  }

  #unpause(): void {
    this.#paused = false;
    this.stats.paused.dec();
  }

  /** Pauses or resumes the owner as the counts say, then makes sure a wait is pending on each capped count. */
  #check(): void {
    if (this.#stopped) return;
    const full = this.#atCap();
    if (full && !this.#paused) {
      this.#paused = true;
      this.stats.paused.inc();
      this.stats.pauses.inc();
      this.owner.pauseAccepting();
    } else if (!full && this.#paused) {
      this.#unpause();
      this.owner.resumeAccepting();
    }
    if (this.overall > 0 && !this.#waitingOverall) this.#wait(OVERALL);
    if (this.cap > 0 && !this.#waitingListener) this.#wait(this.index);
  }

  #wait(at: number): void {
    const wait = Atomics.waitAsync(this.counts, at, Atomics.load(this.counts, at));
    // Not async: the count moved between the load and the wait; look again on the next turn.
    if (!wait.async) {
      queueMicrotask(this.#onWoken);
      return;
    }
    if (at === OVERALL) {
      this.#waitingOverall = true;
      void wait.value.then(this.#onOverallWoken);
    } else {
      this.#waitingListener = true;
      void wait.value.then(this.#onListenerWoken);
    }
  }

  readonly #onWoken = (): void => this.#check();

  readonly #onOverallWoken = (): void => {
    this.#waitingOverall = false;
    this.#check();
  };

  readonly #onListenerWoken = (): void => {
    this.#waitingListener = false;
    this.#check();
  };
}
