import type { StatsSnapshot } from '../shm/index.js';

/** Human form of a snapshot: one `name: value` line per stat, sorted by name, like Envoy's /stats. */
export function formatSnapshot(s: StatsSnapshot): string {
  const lines: string[] = [];
  for (const [name, v] of s.counters) lines.push(`${name}: ${v}`);
  for (const [name, v] of s.gauges) lines.push(`${name}: ${v}`);
  for (const [name, h] of s.histograms) {
    lines.push(`${name}: count=${h.count} sum=${h.sum} p50=${round(h.p50)} p90=${round(h.p90)} p99=${round(h.p99)} p99.9=${round(h.p999)}`);
  }
  lines.sort();
  if (s.overflows > 0n) lines.push(`(stats region full: ${s.overflows} allocations refused)`);
  return lines.join('\n');
}

function round(v: number): string {
  return v >= 100 ? v.toFixed(0) : v.toFixed(1);
}
