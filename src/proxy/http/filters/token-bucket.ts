/**
 * A token bucket shared by every worker thread of one epoch, kept in two gauges of the stats
 * region (shared memory): `tokens`, the tokens left, and `fill_period`, the last fill period
 * applied. Worker threads of one process write the same gauge lane (the epoch's), so the pair
 * is one bucket per epoch for the whole process; another epoch has its own lane, hence its own
 * bucket, and the supervisor clears the lane when the epoch exits.
 *
 * The bucket refills in steps: at each multiple of `fillIntervalMs` (counted from the Unix
 * epoch, so every thread agrees on the periods) it gains `tokensPerFill`, up to `maxTokens`.
 * Every change is a compare-and-swap on one word:
 *   - refill: the thread that moves `fill_period` from p to q (CAS) adds (q - p) × tokensPerFill,
 *     capped, to `tokens` (CAS loop). Only one thread can win the move from p, so no period is
 *     ever added twice; a thread that loses simply goes on to take a token.
 *   - take: CAS `tokens` from t to t - 1 while t > 0.
 * So the bucket never admits more than it was given. The one imprecision is the other way:
 * between the winner's two steps (a few instructions) another thread may still see the old
 * count and refuse a request that would have had a token.
 *
 * A fresh lane holds zeros: `fill_period` 0 means never filled, so the first take fills the bucket.
 */
import type { Gauge } from '../../../shm/handles.js';
import type { StatsStore } from '../../../shm/types.js';

/** Milliseconds on a scale every thread of the process shares. */
export interface Clock {
  now(): number;
}

/**
 * `performance.now()` alone differs per worker thread (each has its own time origin) and
 * `Date.now()` can step backwards (NTP); the sum below is monotonic in each thread and agrees
 * across threads to well under a millisecond, since each origin is a wall-clock reading.
 */
export const processClock: Clock = { now: () => performance.timeOrigin + performance.now() };

export interface BucketConfig {
  readonly maxTokens: number;
  readonly tokensPerFill: number;
  readonly fillIntervalMs: number;
}

export class SharedTokenBucket {
  readonly #tokens: Gauge;
  readonly #period: Gauge;
  readonly #max: bigint;
  readonly #perFill: bigint;
  readonly #interval: number;
  readonly #clock: Clock;

  /** `prefix` such as `http.web.local_rate_limit.`: the gauges are `<prefix>tokens` and `<prefix>fill_period`. */
  constructor(stats: StatsStore, prefix: string, config: BucketConfig, clock: Clock) {
    this.#tokens = stats.gauge(`${prefix}tokens`, 'sum');
    this.#period = stats.gauge(`${prefix}fill_period`, 'max');
    this.#max = BigInt(config.maxTokens);
    this.#perFill = BigInt(config.tokensPerFill);
    this.#interval = config.fillIntervalMs;
    this.#clock = clock;
  }

  /** Takes one token: the tokens left after it, or -1 when the bucket is empty. */
  tryTake(): number {
    this.#refill(this.#clock.now());
    for (;;) {
      const t = this.#tokens.laneValue();
      if (t <= 0n) return -1;
      if (this.#tokens.compareExchange(t, t - 1n) === t) return Number(t - 1n);
    }
  }

  /** Milliseconds until the next fill (at least 1). */
  msUntilNextFill(): number {
    const now = this.#clock.now();
    return Math.max(1, Math.ceil(this.#interval - (now % this.#interval)));
  }

  #refill(now: number): void {
    const period = BigInt(Math.floor(now / this.#interval));
    const last = this.#period.laneValue();
    // A thread whose clock reads a hair behind the winner's sees a period already applied.
    if (period <= last) return;
    if (this.#period.compareExchange(last, period) !== last) return;
    // Period 0 is a fresh lane: the bucket starts full. Otherwise past a full bucket's worth
    // of steps the count no longer matters.
    const gain = last === 0n || (period - last) * this.#perFill > this.#max ? this.#max : (period - last) * this.#perFill;
    for (;;) {
      const t = this.#tokens.laneValue();
      const next = t + gain > this.#max ? this.#max : t + gain;
      if (this.#tokens.compareExchange(t, next) === t) return;
    }
  }
}
