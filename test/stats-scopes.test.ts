import { test } from 'node:test';
import assert from 'node:assert/strict';
import { get as httpGet, type IncomingMessage } from 'node:http';
import { once } from 'node:events';
import { processIsAlive } from '../src/shm/locks.js';
import { join } from 'node:path';
import { StatsRegion } from '../src/shm/index.js';
import { eventually, freePort, readStat, startProxyctl, type Instance } from './fixtures/supervisor-util.js';

async function get(port: number): Promise<void> {
  const res = await new Promise<IncomingMessage>((resolve, reject) => httpGet({ host: '127.0.0.1', port, path: '/', agent: false }, resolve).once('error', reject));
  assert.equal(res.statusCode, 200);
  res.resume();
  await once(res, 'end');
}

/** `proxyctl stats --json`: each kind's values by name. */
interface StatsJson {
  counters: Record<string, number>;
  gauges: Record<string, number>;
  histograms: Record<string, unknown>;
}

async function statNames(inst: Instance): Promise<{ names: string[]; json: StatsJson }> {
  const r = await inst.cli(['stats', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const json = r.json as StatsJson;
  return { names: [...Object.keys(json.counters), ...Object.keys(json.gauges), ...Object.keys(json.histograms)], json };
}

/** Names in the region, read as `proxyctl stats` reads it but without a process per poll. */
function regionNames(inst: Instance): string[] {
  return [...StatsRegion.open(join(inst.runtimeDir, `base-${inst.baseId}`, 'stats'), { readOnly: true }).entries()].map((e) => e.name);
}

const removed = (n: string): boolean => /^(listener|http|access_log)\.b\.|^cluster\.x\./.test(n);

test('a reload that removes a listener and a cluster frees their stats once the old epoch exited; adding them back starts at 0', { timeout: 30_000 }, async (t) => {
  const [a, b] = [await freePort(), await freePort()];
  const listenerA = `  - { name: a, address: 127.0.0.1:${a}, protocol: http, routes: [{ match: { prefix: / }, directResponse: { status: 200, body: ok } }] }`;
  const drain = 'drain: { strategy: immediate, drainTime: 100ms, parentShutdownTime: 1s }';
  const withB = [
    'workers: 1',
    'listeners:',
    listenerA,
    `  - { name: b, address: 127.0.0.1:${b}, protocol: http, routes: [{ match: { prefix: / }, cluster: x }] }`,
    'clusters:',
    `  - { name: x, endpoints: [127.0.0.1:${a}] }`,
    drain,
    '',
  ].join('\n');
  const inst = await startProxyctl(t, withB);
  await get(b);
  const before = await statNames(inst);
  assert.equal(before.json.counters['cluster.x.upstream_rq_total'], 1);
  assert.equal(before.json.counters['http.b.downstream_rq_total'], 1);

  const withoutB = inst.writeConfig('without-b.yaml', ['workers: 1', 'listeners:', listenerA, drain, ''].join('\n'));
  const first = inst.epochPids()[0]!;
  assert.equal((await inst.cli(['reload', '--json', '--config', withoutB])).code, 0);
  await eventually(() => !processIsAlive(first), 5_000, 'the old epoch to exit');
  await eventually(() => !regionNames(inst).some(removed), 5_000, 'the removed scopes to be freed');
  const after = await statNames(inst);
  assert.equal(after.json.counters['stats.scopes_freed'], 3, 'listener.b., http.b. and cluster.x.');
  assert.deepEqual(after.names.filter(removed), []);
  assert.ok((after.json.counters['stats.entries_freed'] ?? 0) > 0);
  assert.ok((after.json.counters['http.a.downstream_rq_total'] ?? 0) >= 1, 'a kept scope keeps its totals');

  const second = inst.epochPids()[1]!;
  assert.equal((await inst.cli(['reload', '--json', '--config', inst.configPath])).code, 0);
  await eventually(() => !processIsAlive(second), 5_000, 'the second epoch to exit');
  const back = await statNames(inst);
  assert.equal(back.json.counters['cluster.x.upstream_rq_total'], 0, 'a scope that came back starts at 0');
  assert.equal(back.json.counters['http.b.downstream_rq_total'], 0);
  assert.ok((back.json.gauges['stats.entries_reused'] ?? 0) > 0, 'freed entries were taken again');
  await get(b);
  await eventually(() => readStat(inst, 'cluster.x.upstream_rq_total') === 1n, 5_000, 'the new cluster x counting');
});
