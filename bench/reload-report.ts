/*
 * Turns the raw outputs of bench/reload.sh into markdown tables (stdout, and DIR/table.md)
 * plus DIR/summary.json:
 *   node dist/bench/reload-report.js --dir DIR
 * DIR/runs.tsv has one row per run (target, scenario, wrk output, reload log, serving after,
 * note); wrk outputs carry the BENCH_SUMMARY line of conf/summary.lua, reload logs are the
 * JSONL of reload-probe.js. DIR/params.md, when present, is printed first.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ReloadRecord } from './reload-targets.js';

const { values: args } = parseArgs({ options: { dir: { type: 'string' } } });
const dir = args.dir ?? '';

interface Wrk {
  requests: number;
  durationS: number;
  connect: number;
  read: number;
  write: number;
  timeout: number;
  status: number;
}

interface Row {
  target: string;
  scenario: string;
  wrk: Wrk | null;
  reloads: ReloadRecord[];
  servingAfter: string;
  note: string;
}

function readWrk(file: string): Wrk | null {
  if (file === '-' || !existsSync(join(dir, file))) return null;
  const line = readFileSync(join(dir, file), 'utf8').split('\n').find((l) => l.startsWith('BENCH_SUMMARY'));
  if (line === undefined) return null;
  const kv = new Map(line.split(' ').slice(1).map((p) => p.split('=') as [string, string]));
  const n = (k: string): number => Number(kv.get(k) ?? NaN);
  return { requests: n('requests'), durationS: n('duration_us') / 1e6, connect: n('connect'), read: n('read'), write: n('write'), timeout: n('timeout'), status: n('status') };
}

function readReloads(file: string): ReloadRecord[] {
  if (file === '-' || !existsSync(join(dir, file))) return [];
  return readFileSync(join(dir, file), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as ReloadRecord);
}

function readRows(): Row[] {
  const lines = readFileSync(join(dir, 'runs.tsv'), 'utf8').split('\n').slice(1).filter((l) => l.trim() !== '');
  return lines.map((l) => {
    const [target = '?', scenario = '?', wrk = '-', log = '-', servingAfter = '-', note = ''] = l.split('\t');
    return { target, scenario, wrk: readWrk(wrk), reloads: readReloads(log), servingAfter, note };
  });
}

// ---------------------------------------------------------------------------- statistics ----

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** Nearest-rank p95: the smallest value with at least 95 % of the samples at or below it. */
function p95(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.ceil(0.95 * s.length) - 1] as number;
}

function values(rs: ReloadRecord[], pick: (r: ReloadRecord) => number | null | undefined): number[] {
  return rs.filter((r) => r.ok).map(pick).filter((v): v is number => typeof v === 'number');
}

const fmt = (x: number | null, digits = 0): string => (x === null || Number.isNaN(x) ? '—' : x.toFixed(digits));
const pair = (xs: number[]): string => (xs.length === 0 ? '—' : `${fmt(median(xs), 1)} / ${fmt(p95(xs), 1)}`);
const errorsOf = (w: Wrk): number => w.connect + w.read + w.write + w.timeout + w.status;
const okCount = (r: Row): number => r.reloads.filter((x) => x.ok).length;

/** Errors per completed reload (what the failure ratio compares; runs may differ in reload count). */
function errorsPerReload(r: Row): number | null {
  if (r.wrk === null || r.reloads.length === 0) return null;
  return errorsOf(r.wrk) / r.reloads.length;
}

function readyMedian(r: Row): number | null {
  return median(values(r.reloads, (x) => x.readyMs));
}

/** proxyctl's figure divided by the peer's, with the zero cases spelled out. */
function ratio(ours: number | null, theirs: number | null, digits = 2): string {
  if (ours === null || theirs === null) return 'n/a';
  if (theirs === 0) return ours === 0 ? 'equal (both 0)' : `∞ (${fmt(ours, 2)} vs 0)`;
  return `${(ours / theirs).toFixed(digits)}×`;
}

// -------------------------------------------------------------------------------- tables ----

function mainTable(rows: Row[]): string[] {
  const out = [
    '| target | scenario | reloads ok/failed | requests | req/s | connect err | read err | write err | timeouts | HTTP ≥400 | errors per reload | reload→ready median ms | reload→ready p95 ms | proxyctl ÷ this: errors per reload | proxyctl ÷ this: reload→ready median | notes |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const r of rows) {
    const ours = rows.find((x) => x.target === 'proxyctl' && x.scenario === r.scenario);
    const w = r.wrk;
    const ready = values(r.reloads, (x) => x.readyMs);
    const isUs = r.target === 'proxyctl';
    const notes = [r.note, r.servingAfter === 'no' ? 'NOT serving after the run' : ''].filter(Boolean).join('; ');
    out.push(
      `| ${r.target} | ${r.scenario} | ${okCount(r)}/${r.reloads.length - okCount(r)} | ${w ? w.requests : '—'} | ${w ? fmt(w.requests / w.durationS) : '—'} | ` +
        `${w ? w.connect : '—'} | ${w ? w.read : '—'} | ${w ? w.write : '—'} | ${w ? w.timeout : '—'} | ${w ? w.status : '—'} | ${fmt(errorsPerReload(r), 2)} | ` +
        `${fmt(median(ready), 1)} | ${fmt(p95(ready), 1)} | ` +
        `${isUs || ours === undefined || w === null ? '—' : ratio(errorsPerReload(ours), errorsPerReload(r))} | ` +
        `${isUs || ours === undefined ? '—' : ratio(readyMedian(ours), readyMedian(r))} | ${notes} |`,
    );
  }
  return out;
}

function timingTable(rows: Row[]): string[] {
  const out = [
    '| target | scenario | reloads | reloads/s achieved | reload command ms (median / p95) | new worker process seen ms (median / p95) | reload→ready ms (median / p95) | proxyctl `ready` atMs (median / p95) | old workers gone ms (median / p95) |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows.filter((x) => x.reloads.length > 0)) {
    const first = r.reloads[0] as ReloadRecord;
    const last = r.reloads[r.reloads.length - 1] as ReloadRecord;
    const rate = r.reloads.length > 1 && last.atS > first.atS ? (r.reloads.length - 1) / (last.atS - first.atS) : null;
    out.push(
      `| ${r.target} | ${r.scenario} | ${r.reloads.length} | ${fmt(rate, 2)} | ${pair(values(r.reloads, (x) => x.cmdMs))} | ${pair(values(r.reloads, (x) => x.forkMs))} | ${pair(values(r.reloads, (x) => x.readyMs))} | ` +
        `${pair(values(r.reloads, (x) => x.readyAtMs))} | ${pair(values(r.reloads, (x) => x.oldGoneMs))} |`,
    );
  }
  return out;
}

const LEGEND = `
What the numbers mean:
- **scenario**: \`idle\` = reload-to-ready measurement without load (reloads spaced out, no wrk);
  \`keepalive\` = \`wrk -t1 -c50\` with keep-alive connections; \`close\` = the same with
  \`-H 'Connection: close'\` (one TCP connection per request); \`*-control\` = same load, no reloads.
- **connect/read/write err, timeouts**: wrk's socket error counters. On loopback a refused
  connection mostly shows up as a *write* error, and wrk retries at once, so one gap of a few ms
  can count thousands; *read* = connection reset/closed before a full response (e.g. an old
  worker closing a keep-alive connection); *timeouts* = no response within wrk's 2 s.
- **HTTP ≥400**: wrk's "Non-2xx or 3xx responses" (it counts status ≥ 400 only, e.g. 502).
- **errors per reload**: (all socket errors + HTTP ≥400) ÷ reloads done in that run.
- **reload→ready**: from issuing the operator's reload command until the new generation of
  workers serves. proxyctl: wall time of \`proxyctl reload --json\`, which blocks until the new
  epoch is ready (includes starting the Node CLI). nginx: from starting \`nginx -s reload\`
  until the master has a new child titled "nginx: worker process" (nginx sets that title after
  the worker's init, just before its event loop). HAProxy: from sending \`reload\` to the master
  CLI until \`show proc\` lists a new PID under "# workers" (the master has re-executed, loaded
  the config and forked the new worker). Polled every 2 ms.
- **reload command ms**: how long the command itself took. nginx: \`nginx -s reload\` only
  signals the master and exits; HAProxy: until the master closes the CLI connection as it
  re-executes; proxyctl: the same as reload→ready.
- **new worker process seen** (nginx/HAProxy): until a new child of the master first shows up
  in /proc (the fork), a lower bound for reload→ready. HAProxy's master answers \`show proc\`
  only after it has set the new worker up, so its reload→ready can trail the fork by tens of ms.
- **proxyctl \`ready\` atMs**: the \`ready\` event's atMs in the timeline \`proxyctl reload --json\`
  prints, i.e. proxyctl's own clock for the reload; it leaves out the CLI's start-up.
- **old workers gone** (idle rows, nginx/HAProxy only): from the command until every
  pre-reload worker has exited.
- **proxyctl ÷ this**: proxyctl's figure divided by this row's, same scenario (>1 = proxyctl
  has more errors / takes longer). "∞" = this peer had 0 and proxyctl did not.`;

function main(): void {
  if (dir === '') throw new Error('usage: reload-report.js --dir DIR');
  const rows = readRows();
  const params = existsSync(join(dir, 'params.md')) ? readFileSync(join(dir, 'params.md'), 'utf8').trimEnd().split('\n') : [];
  const text = [...params, '', ...mainTable(rows), '', 'Reload timings:', '', ...timingTable(rows), LEGEND, ''].join('\n');
  process.stdout.write(text);
  writeFileSync(join(dir, 'table.md'), text);
  const summary = rows.map((r) => ({
    target: r.target,
    scenario: r.scenario,
    reloads: r.reloads.length,
    reloadsOk: okCount(r),
    wrk: r.wrk,
    errorsPerReload: errorsPerReload(r),
    readyMs: { median: readyMedian(r), p95: p95(values(r.reloads, (x) => x.readyMs)) },
    cmdMs: { median: median(values(r.reloads, (x) => x.cmdMs)), p95: p95(values(r.reloads, (x) => x.cmdMs)) },
    readyAtMs: { median: median(values(r.reloads, (x) => x.readyAtMs)), p95: p95(values(r.reloads, (x) => x.readyAtMs)) },
    forkMs: { median: median(values(r.reloads, (x) => x.forkMs)), p95: p95(values(r.reloads, (x) => x.forkMs)) },
    oldGoneMs: { median: median(values(r.reloads, (x) => x.oldGoneMs)), p95: p95(values(r.reloads, (x) => x.oldGoneMs)) },
    servingAfter: r.servingAfter,
    note: r.note,
  }));
  writeFileSync(join(dir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
}

try {
  main();
} catch (err: unknown) {
  process.stderr.write(`reload-report: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
