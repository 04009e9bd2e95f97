/**
 * The `name: value` text of admin `/stats` and `proxyctl stats`: one line per stat, sorted by
 * name, like Envoy's /stats; a histogram shows its count, sum and quantiles on one line.
 */
import type { HistogramSummary, StatsSnapshot } from '../shm/index.js';

export function formatSnapshot(s: StatsSnapshot): string {
  const lines: string[] = [];
  for (const [name, v] of s.counters) lines.push(`${name}: ${v}`);
  for (const [name, v] of s.gauges) lines.push(`${name}: ${v}`);
  for (const [name, h] of s.histograms) {
    lines.push(`${name}: count=${h.count} sum=${h.sum} p50=${quantileText(h.p50)} p90=${quantileText(h.p90)} p99=${quantileText(h.p99)} p99.9=${quantileText(h.p999)}`);
  }
  lines.sort();
  if (s.overflows > 0n) lines.push(`(stats region full: ${s.overflows} allocations refused)`);
  return lines.join('\n');
}

/** A quantile as the text forms print it: whole numbers from 100 up, one decimal below. */
export function quantileText(v: number): string {
  return v >= 100 ? v.toFixed(0) : v.toFixed(1);
}

/**
 * Envoy's `?usedonly`: only the stats something wrote. Counters only grow and histograms only
 * count, so "non-zero" is exactly "was ever incremented / recorded". A gauge that went up and
 * back to zero reads as unused: the region keeps no written-bit, since one would cost every
 * gauge update a second atomic store on the hot path.
 */
export function usedOnly(s: StatsSnapshot): StatsSnapshot {
  const nonZero = <V>(m: Map<string, V>, used: (v: V) => boolean): Map<string, V> => new Map([...m].filter(([, v]) => used(v)));
  return {
    counters: nonZero(s.counters, (v) => v !== 0n),
    gauges: nonZero(s.gauges, (v) => v !== 0n),
    histograms: nonZero(s.histograms, (h: HistogramSummary) => h.count > 0),
    overflows: s.overflows,
  };
}
