/**
 * The stats flusher: every `flushInterval`, the active epoch's main thread reads the region and
 * hands each sink what changed. It runs only while its epoch is active: it starts once the
 * epoch serves (after ready) and stops, with one last flush, when the epoch begins to drain
 * (reload, `proxyctl drain`, stop), so a draining epoch sends nothing more.
 *
 * Deltas are continuous across epochs: the baseline of each counter (and histogram count) is
 * in the region, claimed by compare-and-swap (StatsRegion.takeDelta). The new active epoch
 * goes on from the old one's last flush, and while both flush for a moment during the switch
 * each increment is still sent once. Histogram quantiles are over the values recorded since
 * this epoch's previous flush (its first flush: since it started); their bucket baseline is
 * this process's own.
 */
import type { StatsConfig } from '../config/types-stats.js';
import type { Logger } from '../log.js';
import { combineLanes } from '../shm/handles.js';
import { quantile } from '../shm/histogram-buckets.js';
import { GaugeCombine, HISTOGRAM_BUCKETS } from '../shm/layout.js';
import type { RegionEntry, StatsRegion } from '../shm/region.js';
import { StatsdSink } from './statsd-sink.js';
import type { FlushBatch, StatsSink } from './types.js';

interface BucketBaseline {
  name: string;
  buckets: BigInt64Array;
}

export class StatsFlusher {
  readonly #region: StatsRegion;
  readonly #sinks: readonly StatsSink[];
  readonly #log: Logger;
  readonly #timer: NodeJS.Timeout;
  /** Histogram buckets at this epoch's last flush, by entry id (a reused id has another name). */
  readonly #buckets = new Map<number, BucketBaseline>();
  #stopped: Promise<void> | null = null;

  /** Starts flushing `region` to the sinks of `config`; null when it has none. */
  static start(config: StatsConfig, region: StatsRegion, log: Logger): StatsFlusher | null {
    if (config.sinks.length === 0) return null;
    const sendFail = region.counter('stats.statsd.send_fail');
    return new StatsFlusher(region, config.flushIntervalMs, config.sinks.map((s) => new StatsdSink(s, sendFail, log)), log);
  }

  constructor(region: StatsRegion, intervalMs: number, sinks: readonly StatsSink[], log: Logger) {
    this.#region = region;
    this.#sinks = sinks;
    this.#log = log;
    for (const e of region.entries()) if (e.kind === 'histogram') this.#bucketDelta(e);
    this.#timer = setInterval(this.flush, intervalMs);
    this.#timer.unref();
  }

  /** One flush now. Never throws: a failed read or sink is logged and the next flush tries again. */
  readonly flush = (): void => {
    try {
      const batch = this.#collect();
      for (const sink of this.#sinks) sink.send(batch);
    } catch (err: unknown) {
      this.#log.warn('stats flush failed', { error: err });
    }
  };

  /** Stops the timer, flushes one last time and closes the sinks. Idempotent. */
  stop(): Promise<void> {
    if (this.#stopped === null) {
      clearInterval(this.#timer);
      this.flush();
      this.#stopped = Promise.all(this.#sinks.map((s) => s.close())).then(() => undefined);
    }
    return this.#stopped;
  }

  #collect(): FlushBatch {
    const batch: FlushBatch = { counters: [], gauges: [], histograms: [] };
    for (const e of this.#region.entries()) {
      if (e.kind === 'counter') {
        const delta = this.#region.takeDelta(e);
        if (delta > 0n) batch.counters.push([e.name, delta]);
      } else if (e.kind === 'histogram') {
        const count = this.#region.takeDelta(e);
        const interval = this.#bucketDelta(e);
        let recorded = 0n;
        for (let i = 0; i < HISTOGRAM_BUCKETS; i++) recorded += interval[i] as bigint;
        if (count === 0n && recorded === 0n) continue;
        const q = (p: number): number => quantile(interval, recorded, p);
        batch.histograms.push([e.name, { count, p50: q(0.5), p90: q(0.9), p99: q(0.99), p999: q(0.999) }]);
      } else {
        batch.gauges.push([e.name, combineLanes(this.#region.words, e.firstWord, GaugeCombine[e.combine])]);
      }
    }
    return batch;
  }

  /**
   * The buckets `e` gained since this epoch's last flush of it; its baseline becomes now. A
   * bucket lower than its baseline means the entry was freed and taken again since: all of
   * it is new.
   */
  #bucketDelta(e: RegionEntry): BigInt64Array {
    const now = new BigInt64Array(HISTOGRAM_BUCKETS);
    const w = this.#region.words;
    for (let i = 0; i < HISTOGRAM_BUCKETS; i++) now[i] = Atomics.load(w, e.firstWord + 2 + i);
    const last = this.#buckets.get(e.id);
    this.#buckets.set(e.id, { name: e.name, buckets: now });
    if (last === undefined || last.name !== e.name) return now.slice();
    const delta = new BigInt64Array(HISTOGRAM_BUCKETS);
    for (let i = 0; i < HISTOGRAM_BUCKETS; i++) {
      const d = (now[i] as bigint) - (last.buckets[i] as bigint);
      if (d < 0n) return now.slice();
      delta[i] = d;
    }
    return delta;
  }
}
