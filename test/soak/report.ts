/**
 * The soak's verdict: a table of the samples, growth after warm-up, and proxyctl's counters
 * against what the clients counted.
 *
 * Growth is measured on floors: the lowest of the first three samples after warm-up (the
 * first 20 % of the run) against the lowest of the last three. A floor ignores the garbage
 * collector's sawtooth and a sample that caught a reload half done (one more epoch, its pipes
 * and its socket copies), so what is left is memory or descriptors that were never given back.
 * Limits: RSS may rise by at most 8 MiB or 10 % of its floor, whichever is more (a leak of 100
 * bytes per request at this load, about 1,000 requests a second, adds 6 MiB a minute); fds by
 * at most 3 (a descriptor leaked per reload adds 12 a minute at the default 5 s).
 */
import type { ProcessUse, Protocol, Sample } from './sample.js';

export const RSS_LIMIT_KIB = 8 * 1024;
export const RSS_LIMIT_RATIO = 0.1;
export const FD_LIMIT = 3;

export interface Growth {
  what: string;
  from: number;
  to: number;
  limit: number;
  ok: boolean;
}

export interface CounterCheck {
  what: string;
  proxyctl: number;
  /** What the clients saw: the counter must lie in [low, high]. */
  low: number;
  high: number;
  ok: boolean;
}

const mib = (kib: number): string => (kib / 1024).toFixed(1);

export function table(samples: readonly Sample[]): string {
  const head = ['t s', 'sup MiB', 'sup fds', 'epochs', 'act MiB', 'act fds', 'all ep MiB', 'http1 ok/fail', 'http2 ok/fail', 'tcp ok/fail', 'reloads'];
  const rows = samples.map((s) => {
    const active = s.epochs[0];
    const pair = (p: Protocol): string => `${s.done[p]}/${s.failed[p]}`;
    return [
      (s.atMs / 1000).toFixed(0),
      s.supervisor === null ? '-' : mib(s.supervisor.rssKiB),
      s.supervisor === null ? '-' : String(s.supervisor.fds),
      String(s.epochs.length),
      active === undefined ? '-' : mib(active.rssKiB),
      active === undefined ? '-' : String(active.fds),
      mib(s.epochs.reduce((n, e) => n + e.rssKiB, 0)),
      pair('http1'),
      pair('http2'),
      pair('tcp'),
      String(s.reloads),
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [head, ...rows].map((r) => r.map((c, i) => c.padStart(widths[i]!)).join('  ')).join('\n');
}

/** Floors after warm-up, for the supervisor and the active epoch: RSS and fds. */
export function growth(samples: readonly Sample[], durationMs: number): Growth[] {
  const after = samples.filter((s) => s.atMs >= durationMs * 0.2);
  if (after.length < 4) return [];
  const first = after.slice(0, 3);
  const last = after.slice(-3);
  const checks: Growth[] = [];
  const pick: [string, (s: Sample) => ProcessUse | null | undefined][] = [
    ['supervisor', (s) => s.supervisor],
    ['active epoch', (s) => s.epochs[0]],
  ];
  for (const [who, of] of pick) {
    const floor = (set: readonly Sample[], field: 'rssKiB' | 'fds'): number => Math.min(...set.map((s) => of(s)?.[field] ?? Number.POSITIVE_INFINITY));
    const rss = { from: floor(first, 'rssKiB'), to: floor(last, 'rssKiB') };
    const rssLimit = Math.max(RSS_LIMIT_KIB, rss.from * RSS_LIMIT_RATIO);
    checks.push({ what: `${who} RSS KiB`, ...rss, limit: rssLimit, ok: rss.to - rss.from <= rssLimit });
    const fds = { from: floor(first, 'fds'), to: floor(last, 'fds') };
    checks.push({ what: `${who} fds`, ...fds, limit: FD_LIMIT, ok: fds.to - fds.from <= FD_LIMIT });
  }
  return checks;
}

export function counterCheck(what: string, proxyctl: number, low: number, high: number): CounterCheck {
  return { what, proxyctl, low, high, ok: proxyctl >= low && proxyctl <= high };
}

export function summary(growths: readonly Growth[], counters: readonly CounterCheck[], failures: readonly string[]): string {
  const lines: string[] = [];
  lines.push(`failed requests and reloads: ${failures.length}`);
  const byCause = new Map<string, number>();
  for (const f of failures) byCause.set(f, (byCause.get(f) ?? 0) + 1);
  for (const [cause, n] of byCause) lines.push(`  ${n} × ${cause}`);
  lines.push('growth after warm-up (floor of the first 3 samples -> floor of the last 3):');
  if (growths.length === 0) lines.push('  too few samples after warm-up to judge (run longer)');
  for (const g of growths) lines.push(`  ${g.ok ? 'ok  ' : 'FAIL'} ${g.what}: ${g.from} -> ${g.to} (${g.to - g.from >= 0 ? '+' : ''}${g.to - g.from}, limit +${Math.round(g.limit)})`);
  lines.push('proxyctl stats against the clients:');
  for (const c of counters) lines.push(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.what}: proxyctl ${c.proxyctl}, clients ${c.low === c.high ? c.low : `${c.low}..${c.high}`}`);
  return lines.join('\n');
}
