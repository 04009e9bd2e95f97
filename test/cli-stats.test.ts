import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { StatsRegion } from '../src/shm/index.js';
import { baseIdPaths, ensurePrivateDir } from '../src/runtime-dir.js';
import { ExitCode } from '../src/errors.js';
import { tempDir } from './helpers.js';

const BIN = fileURLToPath(new URL('../../bin/run.js', import.meta.url));

function proxyctl(args: string[]): { status: number | null; json: unknown; stdout: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  let json: unknown;
  try {
    json = JSON.parse(r.stdout);
  } catch {
    json = undefined;
  }
  return { status: r.status, json, stdout: r.stdout };
}

test('proxyctl stats reads the region of the chosen base id', (t) => {
  const runtimeDir = tempDir(t);
  const paths = baseIdPaths(runtimeDir, 3);
  ensurePrivateDir(paths.dir);
  const region = StatsRegion.create(paths.stats);
  region.counter('http.web.downstream_rq_total').add(12);
  region.gauge('listener.web.downstream_cx_active').add(2);
  region.histogram('http.web.downstream_rq_time').record(250);
  region.counter('cluster.app.upstream_rq_total').inc();

  const all = proxyctl(['stats', '--runtime-dir', runtimeDir, '--base-id', '3', '--json']);
  assert.equal(all.status, ExitCode.OK);
  assert.deepEqual(all.json, {
    ok: true,
    command: 'stats',
    counters: { 'http.web.downstream_rq_total': 12, 'cluster.app.upstream_rq_total': 1 },
    gauges: { 'listener.web.downstream_cx_active': 2 },
    histograms: { 'http.web.downstream_rq_time': { count: 1, sum: 250, p50: 250, p90: 250, p99: 250, p999: 250 } },
    overflows: 0,
  });
  const filtered = proxyctl(['stats', '--runtime-dir', runtimeDir, '--base-id', '3', '--filter', '^http\\.', '--json']);
  assert.deepEqual(Object.keys((filtered.json as { counters: object }).counters), ['http.web.downstream_rq_total']);
  const human = proxyctl(['stats', '--runtime-dir', runtimeDir, '--base-id', '3']);
  assert.equal(human.status, ExitCode.OK);
  assert.match(human.stdout, /^http\.web\.downstream_rq_total: 12$/m);
});

test('proxyctl stats exit codes: 69 when nothing runs, 2 for bad usage', (t) => {
  const runtimeDir = tempDir(t);
  const missing = proxyctl(['stats', '--runtime-dir', runtimeDir, '--json']);
  assert.equal(missing.status, ExitCode.UNAVAILABLE);
  assert.equal((missing.json as { error: { code: string } }).error.code, 'PROXYCTL_ERR_NOT_RUNNING');
  assert.equal(proxyctl(['stats', '--runtime-dir', runtimeDir, '--filter', '(']).status, ExitCode.USAGE);
  assert.equal(proxyctl(['stats', '--no-such-flag']).status, ExitCode.USAGE);
});

test('proxyctl stats --histograms is a quantile table; --watch prints counter rates per interval, --count bounds it', async (t) => {
  const runtimeDir = tempDir(t);
  const paths = baseIdPaths(runtimeDir, 4);
  ensurePrivateDir(paths.dir);
  const region = StatsRegion.create(paths.stats);
  const rq = region.counter('http.web.downstream_rq_total');
  region.counter('cluster.app.upstream_rq_timeout');
  for (const micros of [1000, 2000, 3000, 40_000]) region.histogram('http.web.downstream_rq_time').record(micros);
  region.counter('cluster.app.upstream_rq_total').inc();

  const table = proxyctl(['stats', '--runtime-dir', runtimeDir, '--base-id', '4', '--histograms']);
  assert.equal(table.status, ExitCode.OK);
  const lines = table.stdout.trim().split('\n');
  assert.match(lines[0]!, /^HISTOGRAM +COUNT +P50\(ms\) +P90\(ms\) +P99\(ms\) +P99\.9\(ms\)$/);
  assert.equal(lines.length, 2, 'only the histograms');
  const [name, count, p50] = lines[1]!.split(/ +/);
  assert.equal(name, 'http.web.downstream_rq_time');
  assert.equal(count, '4');
  assert.ok(Math.abs(Number(p50) - 2) < 0.1, `p50 ${p50} ms`);

  // Not a TTY: `<time> <name> <rate>/s` for each counter that moved; a counter that did not is left out.
  const ticker = setInterval(() => rq.add(10), 20);
  t.after(() => clearInterval(ticker));
  const child = spawn(process.execPath, [BIN, 'stats', '--runtime-dir', runtimeDir, '--base-id', '4', '--watch', '--interval', '200ms', '--count', '3'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const [code] = (await once(child, 'exit')) as [number];
  assert.equal(code, ExitCode.OK);
  const watched = out.trim().split('\n');
  assert.ok(watched.length >= 1 && watched.length <= 3, out);
  for (const line of watched) {
    const m = /^(\S+) (\S+) (\d+(?:\.\d)?)\/s$/.exec(line);
    assert.ok(m !== null, line);
    assert.ok(!Number.isNaN(Date.parse(m[1]!)), line);
    assert.equal(m[2], 'http.web.downstream_rq_total');
    assert.ok(Number(m[3]) > 0);
  }
  assert.equal(proxyctl(['stats', '--runtime-dir', runtimeDir, '--base-id', '4', '--watch', '--json']).status, ExitCode.USAGE);
  assert.equal(proxyctl(['stats', '--runtime-dir', runtimeDir, '--base-id', '4', '--count', '2']).status, ExitCode.USAGE);
});
