/*
 * Tables of bench/product.sh: reads a results directory and prints its summary.md.
 *   node dist/bench/product-report.js --dir bench/results/<run>
 * Inputs (all written by product.sh): env.txt, results.tsv (one row per measured wrk run),
 * reload/{idle,cold,cli,under-load}.jsonl (product-reload.js), reload/{control,under-load}.wrk.txt,
 * memory.tsv, memory.conns, dataplane.txt. Missing parts are left out of the summary.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({ options: { dir: { type: 'string' } } });
if (args.dir === undefined) throw new Error('--dir is required');
const dir = args.dir;
const read = (f: string): string | null => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8') : null);
const out: string[] = [];
const say = (line = ''): void => void out.push(line);

// ------------------------------------------------------------------ helpers ----
const num = (s: string | undefined): number | null => (s === undefined || s === '' || s === 'NA' || s === '-' ? null : Number(s));
const nums = (xs: Array<number | null>): number[] => xs.filter((x): x is number => x !== null && Number.isFinite(x));
function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const a = [...xs].sort((x, y) => x - y);
  const m = Math.floor(a.length / 2);
  return a.length % 2 === 1 ? (a[m] as number) : ((a[m - 1] as number) + (a[m] as number)) / 2;
}
/** Nearest-rank percentile. */
function pct(xs: number[], p: number): number | null {
  if (xs.length === 0) return null;
  const a = [...xs].sort((x, y) => x - y);
  return a[Math.min(a.length - 1, Math.max(0, Math.ceil((p / 100) * a.length) - 1))] as number;
}
const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
function fmt(x: number | null, digits = 0): string {
  if (x === null) return 'n/a';
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
const ratio = (a: number | null, b: number | null): string => (a === null || b === null || b === 0 ? 'n/a' : (a / b).toFixed(2));

// ------------------------------------------------------------------ header ----
const env = read('env.txt');
const date = /^date: (.*)$/m.exec(env ?? '')?.[1] ?? '?';
say(`# proxyctl as deployed: throughput, reload and memory against peers (${date})`);
say();
for (const line of (env ?? '').split('\n')) if (line.trim() !== '' && !line.startsWith('date:')) say(`- ${line}`);
say();

// -------------------------------------------------------------- throughput ----
interface Row {
  scenario: string;
  target: string;
  layer: string;
  rps: number | null;
  p50: number | null;
  p99: number | null;
  serr: number | null;
  non2xx: number | null;
  pcpu: number | null;
  wcpu: number | null;
  bconn: number | null;
  steal: number | null;
  note: string;
}
const rows: Row[] = [];
const tsv = read('results.tsv');
for (const line of (tsv ?? '').split('\n').slice(1)) {
  if (line.trim() === '') continue;
  const f = line.split('\t');
  rows.push({
    scenario: f[0] ?? '',
    target: f[2] ?? '',
    layer: f[3] ?? '',
    rps: num(f[4]),
    p50: num(f[5]),
    p99: num(f[6]),
    serr: num(f[7]),
    non2xx: num(f[8]),
    pcpu: num(f[10]),
    wcpu: num(f[11]),
    bconn: num(f[12]),
    steal: num(f[14]),
    note: f[15] ?? '',
  });
}
const medRps = new Map<string, number | null>();
const LABEL: Record<string, string> = {
  'proxyctl-l7': '**proxyctl-l7** (`proxyctl start`, http listener)',
  'proxyctl-l7-filters': '**proxyctl-l7-filters** (the same, with a one-filter HTTP chain)',
  'proxyctl-l7-baseline': 'proxyctl-l7-baseline (the proxyctl-l7 config on the --baseline-root tree)',
  'proxyctl-l4': '**proxyctl-l4** (`proxyctl start`, tcp listener)',
  nginx: 'nginx (proxy_pass, keepalive 64)',
  haproxy: 'HAProxy mode http (http-reuse always)',
  'haproxy-tcp': 'HAProxy mode tcp',
  'nginx-stream': 'nginx stream',
  undici: 'undici peer (node:http + undici Pool, 64 conns)',
  direct: 'direct (the backend, no proxy)',
};
if (rows.length > 0) {
  const scenarios = [...new Set(rows.map((r) => r.scenario))];
  const targets = [...new Set(rows.map((r) => r.target))];
  for (const s of scenarios) {
    say(`## Throughput, ${s === 'close' ? '`Connection: close` (a new connection per request)' : 'keep-alive'}`);
    say();
    say('| target | layer | req/s median | min–max | p50 ms | p99 ms | socket errors | non-2xx | CPU% proxy group | CPU% wrk | backend conns / 1k req | reps |');
    say('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const t of targets) {
      const rs = rows.filter((r) => r.scenario === s && r.target === t);
      if (rs.length === 0) continue;
      const rps = nums(rs.map((r) => r.rps));
      const m = median(rps);
      medRps.set(`${s}/${t}`, m);
      const note = rs.find((r) => r.note !== '')?.note;
      say(
        `| ${LABEL[t] ?? t}${note === undefined ? '' : ` ${note}`} | ${rs[0]?.layer} | ${fmt(m)} | ${rps.length > 0 ? `${fmt(Math.min(...rps))}–${fmt(Math.max(...rps))}` : 'n/a'} | ` +
          `${fmt(median(nums(rs.map((r) => r.p50))), 2)} | ${fmt(median(nums(rs.map((r) => r.p99))), 2)} | ${fmt(sum(nums(rs.map((r) => r.serr))))} | ` +
          `${fmt(sum(nums(rs.map((r) => r.non2xx))))} | ${fmt(median(nums(rs.map((r) => r.pcpu))))} | ${fmt(median(nums(rs.map((r) => r.wcpu))))} | ` +
          `${fmt(median(nums(rs.map((r) => r.bconn))), 1)} | ${rs.length} |`,
      );
    }
    say();
  }
  const steal = nums(rows.map((r) => r.steal));
  say(
    'Medians over the reps; socket errors and non-2xx are summed over them. CPU% is of one core (user+sys of the whole process group, ' +
      'so a Node process over 100 % is its GC and libuv threads). Backend conns / 1k req: ≈0 means the proxy reused its upstream pool, ' +
      `≈1000 one backend connection per request (expected for L4 and direct with \`Connection: close\`). Highest hypervisor steal in a run: ${fmt(steal.length > 0 ? Math.max(...steal) : null, 1)} %.`,
  );
  say();
  const pairs: Array<[string, string]> = [
    ['proxyctl-l7', 'nginx'],
    ['proxyctl-l7', 'undici'],
    ['proxyctl-l7', 'haproxy'],
    ['proxyctl-l7-filters', 'proxyctl-l7'],
    ['proxyctl-l7', 'proxyctl-l7-baseline'],
    ['proxyctl-l4', 'haproxy-tcp'],
    ['proxyctl-l4', 'nginx-stream'],
  ];
  const present = pairs.filter(([a, b]) => targets.includes(a) && targets.includes(b));
  if (present.length > 0) {
    say('### Ratios (median req/s of this run)');
    say();
    say('| ratio | keep-alive | close |');
    say('|---|---:|---:|');
  }
  for (const [a, b] of present) {
    say(`| ${a} / ${b} | ${ratio(medRps.get(`keepalive/${a}`) ?? null, medRps.get(`keepalive/${b}`) ?? null)} | ${ratio(medRps.get(`close/${a}`) ?? null, medRps.get(`close/${b}`) ?? null)} |`);
  }
  if (present.length > 0) say();
}

const dp = read('dataplane.txt');
if (dp !== null) {
  const p = /^proxyctl\s+(\d+) req\/s/m.exec(dp)?.[1];
  const n = /^nginx proxy\s+(\d+) req\/s/m.exec(dp)?.[1];
  if (p !== undefined) {
    say(
      `Secondary: one in-process \`DataPlane\` thread without supervisor or epoch (dist/bench/proxy-http.js, keep-alive, 1 short rep, own nginx pair): ` +
        `${fmt(Number(p))} req/s${n === undefined ? '' : `, nginx proxy ${fmt(Number(n))} req/s, ratio ${ratio(Number(p), Number(n))}`}.`,
    );
    say();
  }
}

// ------------------------------------------------------------------ reload ----
interface Rec {
  kind: string;
  rc?: number;
  wallMs?: number;
  readyAtMs?: number | null;
  withinInterval?: boolean;
  unsupported?: boolean;
  skipped?: number;
  reply?: Record<string, unknown> | null;
  stderr?: string;
}
function jsonl(f: string): Rec[] {
  const t = read(f);
  if (t === null) return [];
  return t
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Rec);
}
const idle = jsonl('reload/idle.jsonl');
const cold = jsonl('reload/cold.jsonl');
const cli = jsonl('reload/cli.jsonl');
const load = jsonl('reload/under-load.jsonl');
if (idle.length + cold.length + cli.length + load.length > 0) {
  say('## Reload (proxyctl-l7)');
  say();
  say('| measure | n | median ms | p95 ms | ratio of medians to `node -e 0` |');
  say('|---|---:|---:|---:|---:|');
  const nodeE0 = nums(cli.filter((r) => r.kind === 'node-e0' && r.rc === 0).map((r) => r.wallMs ?? null));
  const nodeMed = median(nodeE0);
  const line = (label: string, xs: number[], vsNode = true): void =>
    say(`| ${label} | ${xs.length} | ${fmt(median(xs), 1)} | ${fmt(pct(xs, 95), 1)} | ${vsNode ? ratio(median(xs), nodeMed) : '—'} |`);
  const ok = (rs: Rec[]): Rec[] => rs.filter((r) => r.rc === 0);
  line('reload-to-ready, supervisor side (timeline `ready` atMs), no load', nums(ok(idle).map((r) => r.readyAtMs ?? null)), false);
  line('`proxyctl reload --json` wall time (CLI spawn to exit), no load', nums(ok(idle).map((r) => r.wallMs ?? null)));
  const coldUnsupported = cold.some((r) => r.unsupported === true);
  if (coldUnsupported || cold.length === 0) {
    say(`| \`reload --cold\`: ready atMs / wall | — | n/a (no --cold yet) | | |`);
  } else {
    line('`reload --cold`: reload-to-ready (`ready` atMs)', nums(ok(cold).map((r) => r.readyAtMs ?? null)), false);
    line('`reload --cold`: CLI wall time', nums(ok(cold).map((r) => r.wallMs ?? null)));
  }
  line('`node -e 0` wall time', nodeE0);
  line('`proxyctl status --json` wall time', nums(cli.filter((r) => r.kind === 'status' && r.rc === 0).map((r) => r.wallMs ?? null)));
  say();
  const idleOk = ok(idle);
  if (idleOk.length > 0) say(`Idle reloads that finished within their second: ${idleOk.filter((r) => r.withinInterval === true).length}/${idle.filter((r) => r.rc !== undefined).length}.`);
  const failed = [...idle, ...cold.filter((r) => r.unsupported !== true), ...load].filter((r) => r.rc !== undefined && r.rc !== 0);
  say(`Reloads that failed (non-zero exit): ${failed.length}${failed.length > 0 ? ` (first: rc ${failed[0]?.rc}, ${JSON.stringify(failed[0]?.stderr ?? '')})` : ''}.`);
  const standby = cli.find((r) => r.kind === 'status-reply')?.reply?.standby;
  say(`\`status --json\` standby: ${standby === undefined ? 'n/a (status has no `standby` field yet)' : `\`${JSON.stringify(standby)}\``}.`);
  say();

  const wrkOf = (f: string): Record<string, number> | null => {
    const m = /^BENCH_SUMMARY (.*)$/m.exec(read(f) ?? '');
    if (m === null) return null;
    const o: Record<string, number> = {};
    for (const kv of (m[1] as string).split(' ')) {
      const [k, v] = kv.split('=');
      if (k !== undefined && v !== undefined) o[k] = Number(v);
    }
    return o;
  };
  const control = wrkOf('reload/control.wrk.txt');
  const under = wrkOf('reload/under-load.wrk.txt');
  if (control !== null || under !== null) {
    say('### Throughput while `proxyctl reload` runs once a second (wrk keep-alive, same target, back to back)');
    say();
    say('| run | requests | req/s | p99 ms | socket errors | non-2xx | reloads asked (1/s) | started | ok | finished within their second |');
    say('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    const rps = (w: Record<string, number> | null): number | null => (w === null || !w.duration_us ? null : (w.requests ?? 0) / (w.duration_us / 1e6));
    const errs = (w: Record<string, number> | null): number | null => (w === null ? null : (w.connect ?? 0) + (w.read ?? 0) + (w.write ?? 0) + (w.timeout ?? 0));
    const reloads = load.filter((r) => r.rc !== undefined);
    const asked = reloads.length + sum(load.map((r) => r.skipped ?? 0));
    const row = (label: string, w: Record<string, number> | null, extra: string): void =>
      say(`| ${label} | ${fmt(w?.requests ?? null)} | ${fmt(rps(w))} | ${fmt(w === null ? null : (w.p99_us ?? 0) / 1000, 2)} | ${fmt(errs(w))} | ${fmt(w?.status ?? null)} | ${extra} |`);
    row('no reloads', control, '— | — | — | —');
    row('one reload a second', under, `${asked} | ${reloads.length} | ${reloads.filter((r) => r.rc === 0).length} | ${reloads.filter((r) => r.withinInterval === true).length}`);
    say();
    say('A reload that overruns its second delays the next one (it then starts at once); none starts after the last second, so "started" < "asked" means reloads took longer than a second.');
    say();
    const failedReq = (errs(under) ?? 0) + (under?.status ?? 0);
    say(`Ratio req/s with reloads / without: **${ratio(rps(under), rps(control))}**. Failed requests under reloads (socket errors + non-2xx): **${fmt(failedReq)}**${failedReq === 0 ? '' : ' (should be 0)'}.`);
    say();
  }
}

// ------------------------------------------------------------------ memory ----
const mem = read('memory.tsv');
if (mem !== null) {
  const conns = Number((read('memory.conns') ?? '10000').trim());
  const m = new Map<string, string[]>();
  for (const line of mem.split('\n').slice(1)) {
    if (line.trim() === '') continue;
    const f = line.split('\t');
    m.set(`${f[0]}/${f[1]}`, f);
  }
  say(`## Memory (RSS from /proc/PID/status, fresh instances, after a 2 s keep-alive warm-up)`);
  say();
  say(`| process | RSS idle MiB | RSS with ${fmt(conns)} idle keep-alive connections MiB | bytes per connection | connections established |`);
  say('|---|---:|---:|---:|---:|');
  const mib = (kb: number | null): string => (kb === null ? 'n/a' : (kb / 1024).toFixed(1));
  const perConn = new Map<string, number | null>();
  const rowOf = (key: string, label: string, withConns: boolean): void => {
    const f = m.get(key);
    if (f === undefined) return;
    const idleKb = num(f[3]);
    const connKb = withConns ? num(f[4]) : null;
    const bpc = idleKb !== null && connKb !== null && conns > 0 ? ((connKb - idleKb) * 1024) / conns : null;
    perConn.set(key, bpc);
    // Only the epoch / worker holds the connections; the supervisor's and master's RSS is shown for what it is.
    const holder = f[1] === 'epoch';
    say(`| ${label} | ${mib(idleKb)} | ${withConns ? mib(connKb) : '—'} | ${withConns && holder ? fmt(bpc) : '—'} | ${withConns && holder ? (f[5] ?? 'n/a') : '—'} |`);
  };
  rowOf('proxyctl/supervisor', 'proxyctl supervisor', true);
  rowOf('proxyctl/epoch', 'proxyctl epoch (1 worker thread; holds the connections)', true);
  const sb = m.get('proxyctl/standby');
  if (sb !== undefined && num(sb[3]) !== null) rowOf('proxyctl/standby', 'proxyctl standby epoch', false);
  else say('| proxyctl standby epoch | n/a (status --json has no standby) | — | — | — |');
  rowOf('nginx/supervisor', 'nginx master', true);
  rowOf('nginx/epoch', 'nginx worker (holds the connections)', true);
  say();
  const pe = perConn.get('proxyctl/epoch') ?? null;
  const ne = perConn.get('nginx/epoch') ?? null;
  say(`Bytes per idle keep-alive connection, proxyctl epoch / nginx worker: **${ratio(pe, ne)}** (${fmt(pe)} B against ${fmt(ne)} B). The client opens the connections 200 at a time, sends one \`GET /\` on each and keeps them open; RSS is read 2 s after the last one is set up.`);
  const client = m.get('proxyctl/epoch')?.[6];
  if (client !== undefined && client !== '') say(`Client report (proxyctl): \`${client}\`; (nginx): \`${m.get('nginx/epoch')?.[6] ?? ''}\`.`);
  say();
}

process.stdout.write(`${out.join('\n')}\n`);
