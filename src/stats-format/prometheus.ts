/**
 * A snapshot in the Prometheus text exposition format 0.0.4, or in OpenMetrics 1.0 (what a
 * scraper gets when its Accept asks for application/openmetrics-text). Names and labels:
 * metric-names.ts. Each family comes once, with `# HELP` and `# TYPE`, its samples together.
 *
 * Counters end in `_total` (not doubled when the stat name already ends so); a gauge whose
 * stat name ends so drops it, since Prometheus keeps the suffix for counters (its HELP still
 * names the stat). In OpenMetrics
 * the family is named without it and the sample carries it; the text ends with `# EOF`.
 * Histograms (recorded in microseconds) are exported in milliseconds, as Envoy exports its
 * `*_rq_time`, with Envoy's default bucket bounds: `_bucket{le}` cumulative up to `+Inf`,
 * `_sum`, `_count`. A region bucket (at most 3.1 % wide) that straddles a bound is counted
 * at the next bound up, so every `le` count is exact or low, never high.
 * Two stats that map to one sample (or one family name of two kinds) keep the first; the
 * region's names make that a corner no proxyctl stat reaches today.
 */
import { bucketBounds } from '../shm/histogram-buckets.js';
import type { HistogramSummary, StatsSnapshot } from '../shm/index.js';
import { escapeHelp, metricName } from './metric-names.js';

export type ExpositionFormat = 'prometheus' | 'openmetrics';

export const CONTENT_TYPES: Readonly<Record<ExpositionFormat, string>> = {
  prometheus: 'text/plain; version=0.0.4; charset=utf-8',
  openmetrics: 'application/openmetrics-text; version=1.0.0; charset=utf-8',
};

/** Envoy's default histogram bounds, in milliseconds. */
const BUCKET_BOUNDS_MS: readonly number[] = [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000];

type Kind = 'counter' | 'gauge' | 'histogram';

interface Family {
  readonly kind: Kind;
  readonly help: string;
  readonly samples: string[];
}

/** OpenMetrics when the Accept header lists application/openmetrics-text with a q above 0. */
export function negotiateFormat(accept: string | undefined): ExpositionFormat {
  if (accept === undefined) return 'prometheus';
  for (const range of accept.split(',')) {
    const [type, ...params] = range.split(';').map((p) => p.trim().toLowerCase());
    if (type !== 'application/openmetrics-text') continue;
    const q = params.find((p) => p.startsWith('q='));
    if (q === undefined || Number(q.slice(2)) > 0) return 'openmetrics';
  }
  return 'prometheus';
}

export function formatExposition(s: StatsSnapshot, format: ExpositionFormat): string {
  const families = new Map<string, Family>();
  const seen = new Set<string>();
  const add = (family: string, kind: Kind, help: string, sample: string, labels: string, value: string): void => {
    let f = families.get(family);
    if (f === undefined) {
      f = { kind, help, samples: [] };
      families.set(family, f);
    } else if (f.kind !== kind) return;
    const line = `${sample}${labels === '' ? '' : `{${labels}}`}`;
    if (seen.has(line)) return;
    seen.add(line);
    f.samples.push(`${line} ${value}`);
  };
  for (const [stat, v] of s.counters) {
    const m = metricName(stat);
    const base = withoutTotal(m.name);
    add(format === 'openmetrics' ? base : `${base}_total`, 'counter', m.template, `${base}_total`, m.labels, v.toString());
  }
  for (const [stat, v] of s.gauges) {
    const m = metricName(stat);
    const name = withoutTotal(m.name);
    add(name, 'gauge', m.template, name, m.labels, v.toString());
  }
  for (const [stat, h] of s.histograms) {
    const m = metricName(stat);
    const name = withoutTotal(m.name);
    histogramSamples(h, m.labels, format, (suffix, labels, value) => add(name, 'histogram', `${m.template} (milliseconds)`, name + suffix, labels, value));
  }
  const lines: string[] = [];
  for (const name of [...families.keys()].sort()) {
    const f = families.get(name)!;
    lines.push(`# HELP ${name} ${escapeHelp(`proxyctl stat ${f.help}`)}`, `# TYPE ${name} ${f.kind}`, ...f.samples);
  }
  if (format === 'openmetrics') lines.push('# EOF');
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

/** OpenMetrics writes `le` as a canonical float (`1.0`, as its client libraries do); the 0.0.4 text as `1`. */
function leText(bound: number, format: ExpositionFormat): string {
  return format === 'openmetrics' && Number.isInteger(bound) ? bound.toFixed(1) : String(bound);
}

/** `_total` belongs to counter samples: a counter gets it once, any other kind loses it (Envoy's gauge `membership_total`). */
function withoutTotal(name: string): string {
  return name.endsWith('_total') ? name.slice(0, -'_total'.length) : name;
}

function histogramSamples(h: HistogramSummary, labels: string, format: ExpositionFormat, emit: (suffix: string, labels: string, value: string) => void): void {
  const sep = labels === '' ? '' : ',';
  let bucket = 0;
  let cumulative = 0n;
  const count = BigInt(h.count);
  for (const boundMs of BUCKET_BOUNDS_MS) {
    // Every value of region bucket i is below its upper bound: it fits under `le` when upper - 1 <= le (µs, integers).
    const leMicros = Math.floor(boundMs * 1000);
    while (bucket < h.buckets.length && bucketBounds(bucket).upper - 1 <= leMicros) cumulative += h.buckets[bucket++]!;
    // Never above the count: bucket counts may run ahead of it while writers race with the read.
    emit('_bucket', `${labels}${sep}le="${leText(boundMs, format)}"`, String(cumulative < count ? cumulative : count));
  }
  // +Inf is the count itself, so the buckets and the count always agree.
  emit('_bucket', `${labels}${sep}le="+Inf"`, String(h.count));
  emit('_sum', labels, String(h.sum / 1000));
  emit('_count', labels, String(h.count));
}
