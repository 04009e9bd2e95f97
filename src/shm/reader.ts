import { combineLanes } from './handles.js';
import { quantile } from './histogram-buckets.js';
import { GaugeCombine, HISTOGRAM_BUCKETS } from './layout.js';
import type { StatsRegion } from './region.js';

export interface HistogramSummary {
  count: number;
  /** Sum of recorded values (microseconds for latencies). */
  sum: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  /**
   * The region's bucket counts, by bucket index (bounds: histogram-buckets.ts). Not part of
   * the JSON form; the Prometheus renderer folds them into its own bounds.
   */
  buckets: BigInt64Array;
}

/** Every stat in a region at one moment, by name. Values are exact 64-bit integers. */
export interface StatsSnapshot {
  counters: Map<string, bigint>;
  gauges: Map<string, bigint>;
  histograms: Map<string, HistogramSummary>;
  /** Allocations the region refused because it was full. */
  overflows: bigint;
}

/**
 * Reads every published stat. Lock-free: writers keep updating while we read, so each value is
 * exact at its own instant and the set is consistent with `statCount` at the start. Entries are
 * bounds-checked (PROXYCTL_ERR_SHM_CORRUPT) before any value is read.
 */
export function readSnapshot(region: StatsRegion, filter?: RegExp): StatsSnapshot {
  const snap: StatsSnapshot = { counters: new Map(), gauges: new Map(), histograms: new Map(), overflows: region.overflows() };
  const w = region.words;
  for (const e of region.entries()) {
    if (filter !== undefined && !filter.test(e.name)) continue;
    switch (e.kind) {
      case 'counter':
        snap.counters.set(e.name, Atomics.load(w, e.firstWord));
        break;
      case 'gauge':
        snap.gauges.set(e.name, combineLanes(w, e.firstWord, GaugeCombine[e.combine]));
        break;
      case 'histogram':
        snap.histograms.set(e.name, summarize(w, e.firstWord));
        break;
    }
  }
  return snap;
}

function summarize(w: BigInt64Array, first: number): HistogramSummary {
  const count = Atomics.load(w, first);
  const sum = Atomics.load(w, first + 1);
  const buckets = new BigInt64Array(HISTOGRAM_BUCKETS);
  for (let i = 0; i < HISTOGRAM_BUCKETS; i++) buckets[i] = Atomics.load(w, first + 2 + i);
  return {
    count: Number(count),
    sum: Number(sum),
    p50: quantile(buckets, count, 0.5),
    p90: quantile(buckets, count, 0.9),
    p99: quantile(buckets, count, 0.99),
    p999: quantile(buckets, count, 0.999),
    buckets,
  };
}

/** A JSON-ready form: `{counters:{name:value}, gauges:{...}, histograms:{...}}`. */
export function snapshotToJson(s: StatsSnapshot): {
  counters: Record<string, number>;
  gauges: Record<string, number>;
  histograms: Record<string, Omit<HistogramSummary, 'buckets'>>;
  overflows: number;
} {
  return {
    counters: Object.fromEntries([...s.counters].map(([k, v]) => [k, Number(v)])),
    gauges: Object.fromEntries([...s.gauges].map(([k, v]) => [k, Number(v)])),
    histograms: Object.fromEntries([...s.histograms].map(([k, { buckets: _, ...summary }]) => [k, summary])),
    overflows: Number(s.overflows),
  };
}
