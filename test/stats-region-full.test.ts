/**
 * A stats region with no room left (`start --stats-capacity`): reloads that add listeners and
 * clusters past it still succeed and every listener serves; the stats that did not fit are
 * counted in stats.overflow and logged with PROXYCTL_ERR_SHM_FULL, the ones that did go on
 * counting, and once a reload removes objects their freed room is used again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { get as httpGet, type IncomingMessage } from 'node:http';
import { once } from 'node:events';
import { processIsAlive } from '../src/shm/locks.js';
import { eventually, freePort, readStat, startProxyctl, type Instance } from './fixtures/supervisor-util.js';

async function status(port: number): Promise<number> {
  const res = await new Promise<IncomingMessage>((resolve, reject) => httpGet({ host: '127.0.0.1', port, path: '/', agent: false }, resolve).once('error', reject));
  res.resume();
  await once(res, 'end');
  return res.statusCode ?? 0;
}

/** Listener `a` answers itself; each extra listener `<name><i>` routes through its own cluster `<name>x<i>` to `a`. */
function config(a: number, extra: readonly number[], name = 'b'): string {
  return [
    'workers: 1',
    'listeners:',
    `  - { name: a, address: 127.0.0.1:${a}, protocol: http, routes: [{ match: { prefix: / }, directResponse: { status: 200, body: ok } }] }`,
    ...extra.map((port, i) => `  - { name: ${name}${i}, address: 127.0.0.1:${port}, protocol: http, routes: [{ match: { prefix: / }, cluster: ${name}x${i} }] }`),
    ...(extra.length > 0 ? ['clusters:', ...extra.map((_, i) => `  - { name: ${name}x${i}, endpoints: [127.0.0.1:${a}] }`)] : []),
    'drain: { strategy: immediate, drainTime: 100ms, parentShutdownTime: 500ms }',
    '',
  ].join('\n');
}

async function reload(inst: Instance, name: string, yaml: string): Promise<void> {
  const r = await inst.cli(['reload', '--json', '--config', inst.writeConfig(name, yaml)]);
  assert.equal(r.code, 0, `reload ${name}: ${r.stdout}${r.stderr}`);
}

test('a full stats region: reloads still succeed, every listener serves, refusals are counted and logged, freed room is used again', { timeout: 60_000 }, async (t) => {
  const a = await freePort();
  const extra = [await freePort(), await freePort(), await freePort(), await freePort()];
  // One listener and one cluster take about 64 entries once they have served: 128 fills up
  // within the first extra pair.
  const inst = await startProxyctl(t, config(a, []), { args: ['--stats-capacity', '128'] });
  assert.equal(await status(a), 200);
  assert.equal(readStat(inst, 'stats.overflow'), 0n);

  await reload(inst, 'extra.yaml', config(a, extra));
  assert.equal(await status(a), 200);
  for (const port of extra) assert.equal(await status(port), 200, `listener on ${port}`);

  assert.ok(readStat(inst, 'stats.overflow') > 0n, 'refused allocations are counted');
  const stats = await inst.cli(['stats', '--json']);
  assert.equal(stats.code, 0, stats.stderr);
  assert.ok(stats.json.overflows > 0, 'proxyctl stats reports the overflows');
  assert.equal(stats.json.counters['http.b3.downstream_rq_total'], undefined, 'the last listener got no shared stats');
  const full = inst.entries().filter((e) => e.level === 'warn' && (e.error as { code?: string } | undefined)?.code === 'PROXYCTL_ERR_SHM_FULL');
  assert.ok(full.length > 0, 'a warning with the error code was logged');
  // The stats that fit go on counting through every reload.
  const before = readStat(inst, 'http.a.downstream_rq_total');
  assert.equal(await status(a), 200);
  assert.equal(readStat(inst, 'http.a.downstream_rq_total'), before + 1n);

  // Remove the extras; once the epochs that had them exited, their scopes are freed and a new
  // listener gets shared stats again.
  const pids = inst.epochPids();
  await reload(inst, 'only-a.yaml', config(a, []));
  const active = inst.epochPids().at(-1);
  await eventually(() => pids.every((pid) => pid === active || !processIsAlive(pid)), 15_000, 'old epochs exited');
  await eventually(() => readStat(inst, 'stats.scopes_freed') > 0n, 10_000, 'scopes freed');
  await reload(inst, 'fresh.yaml', config(a, extra.slice(3), 'fresh'));
  assert.equal(await status(extra[3]!), 200);
  assert.equal(readStat(inst, 'http.fresh0.downstream_rq_total'), 1n, 'a new listener counts in the region again');
  assert.equal(readStat(inst, 'cluster.freshx0.upstream_rq_total'), 1n, 'and so does a new cluster');
});
