import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
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
