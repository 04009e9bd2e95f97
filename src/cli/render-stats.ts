/**
 * The tables of `proxyctl stats --histograms` and `--watch`, as plain lines (colour, when
 * it comes, is added where the lines are printed). Pure functions of snapshots.
 */
import type { StatsSnapshot } from '../shm/index.js';
import { quantileText } from '../stats-format/text.js';

/** Columns padded to their widest cell; the first column left-aligned, the rest right. */
function table(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows.map((row) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ').trimEnd());
}

const ms = (micros: number): string => quantileText(micros / 1000);

/** `--histograms`: one row per histogram, its quantiles in milliseconds (recorded in µs). */
export function histogramTable(s: StatsSnapshot): string[] {
  const names = [...s.histograms.keys()].sort();
  if (names.length === 0) return ['(no histograms)'];
  const rows = names.map((name) => {
    const h = s.histograms.get(name)!;
    return [name, String(h.count), ms(h.p50), ms(h.p90), ms(h.p99), ms(h.p999)];
  });
  return table([['HISTOGRAM', 'COUNT', 'P50(ms)', 'P90(ms)', 'P99(ms)', 'P99.9(ms)'], ...rows]);
}

/** Per-second rate of each counter between two snapshots `seconds` apart (counters never go back). */
export function counterRates(prev: StatsSnapshot, next: StatsSnapshot, seconds: number): Map<string, number> {
  const rates = new Map<string, number>();
  for (const [name, v] of next.counters) rates.set(name, Number(v - (prev.counters.get(name) ?? 0n)) / seconds);
  return rates;
}

function rateText(r: number): string {
  return Number.isInteger(r) ? String(r) : r.toFixed(1);
}

/** `--watch` on a terminal: the counters' rates and the gauges' values, redrawn each interval. */
export function watchTable(at: Date, rates: ReadonlyMap<string, number>, next: StatsSnapshot): string[] {
  const counters = [...rates.keys()].sort().map((name) => [name, `${rateText(rates.get(name)!)}/s`]);
  const gauges = [...next.gauges.keys()].sort().map((name) => [name, String(next.gauges.get(name))]);
  return [`proxyctl stats --watch  ${at.toISOString()}  (Ctrl-C to stop)`, '', ...table([['COUNTER', 'RATE'], ...counters]), '', ...table([['GAUGE', 'VALUE'], ...gauges])];
}

/** `--watch` into a pipe or file: `<time> <counter> <rate>/s`, one line per counter that moved. */
export function watchLines(at: Date, rates: ReadonlyMap<string, number>): string[] {
  const time = at.toISOString();
  return [...rates.keys()]
    .sort()
    .filter((name) => rates.get(name) !== 0)
    .map((name) => `${time} ${name} ${rateText(rates.get(name)!)}/s`);
}
