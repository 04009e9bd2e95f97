/**
 * Acceptance, on `proxyctl start` under load: endpoint churn needs no restart. An endpoints
 * file edited under load takes effect within a second, the removed host gets no new request
 * and nothing fails; a strictDns cluster follows its records through a resolver the test
 * controls, and keeps its hosts while that resolver is down.
 */
import assert from 'node:assert/strict';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DnsServer } from './fixtures/dns-server.js';
import { HttpLoad, servedBy } from './fixtures/load.js';
import { delay } from './fixtures/proxy-util.js';
import { clusterConfig, eventually, freePort, readStat, startBackendProcess, startProxyctl } from './fixtures/supervisor-util.js';
import { tempDir } from './helpers.js';

function endpointsFile(dir: string, ports: readonly number[]): string {
  const path = join(dir, 'app-endpoints.yaml');
  // Written aside and renamed over, as deploy tools do: the watcher never reads half a file.
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, `endpoints:\n${ports.map((p) => `  - 127.0.0.1:${p}\n`).join('')}`);
  renameSync(tmp, path);
  return path;
}

test('file discovery: an edit under load applies within a second, the removed host gets no new request, nothing fails', async (t) => {
  const [a, b, c] = await Promise.all([startBackendProcess(t, 'a'), startBackendProcess(t, 'b'), startBackendProcess(t, 'c')]);
  const dir = tempDir(t);
  const file = endpointsFile(dir, [a.port, b.port]);
  const port = await freePort();
  const inst = await startProxyctl(t, clusterConfig({ port, cluster: ['discovery: file', `file: ${file}`] }));
  assert.equal(readStat(inst, 'cluster.app.membership_total'), 2n);
  const load = HttpLoad.start(t, port, { keepAlive: 4, perRequest: 2 });
  await eventually(() => servedBy(load.result, 'a') > 0 && servedBy(load.result, 'b') > 0, 5_000, 'a and b take traffic');
  endpointsFile(dir, [b.port, c.port]);
  await eventually(() => servedBy(load.result, 'c') > 0, 1_500, 'c takes traffic within a second or so');
  // A request to a that was already on its way may still finish; after that, none starts.
  await delay(200);
  const servedByA = servedBy(load.result, 'a');
  await delay(500);
  assert.equal(servedBy(load.result, 'a'), servedByA, 'a got new requests after it left the file');
  // A bad file is refused and the last good set stays.
  writeFileSync(file, 'endpoints:\n  - 127.0.0.1:99999\n');
  await eventually(() => readStat(inst, 'cluster.app.update_failure') >= 1n, 3_000, 'the bad file refused');
  const servedByC = servedBy(load.result, 'c');
  await eventually(() => servedBy(load.result, 'c') > servedByC, 2_000, 'c still takes traffic');
  const result = await load.stop();
  assert.deepEqual(result.failures, []);
  assert.equal(readStat(inst, 'cluster.app.membership_total'), 2n);
});

test('strictDns: follows record changes through the resolver, and keeps its hosts while the resolver is down', async (t) => {
  const dns = await DnsServer.start(t);
  const a = await startBackendProcess(t, 'a', 0, '127.0.0.1');
  // The same port on another loopback address: a DNS cluster gives every address one port.
  await startBackendProcess(t, 'b', a.port, '127.0.0.2');
  dns.set('app.test', { a: ['127.0.0.1'] });
  const port = await freePort();
  const inst = await startProxyctl(
    t,
    clusterConfig({ port, cluster: ['discovery: strictDns', `dns: { name: app.test, port: ${a.port}, refreshRate: 200ms, family: v4, resolvers: ["127.0.0.1:${dns.port}"] }`] }),
  );
  const load = HttpLoad.start(t, port, { keepAlive: 3, perRequest: 1 });
  await eventually(() => servedBy(load.result, 'a') > 0, 5_000, 'a takes traffic');
  assert.equal(servedBy(load.result, 'b'), 0);
  dns.set('app.test', { a: ['127.0.0.1', '127.0.0.2'] });
  await eventually(() => servedBy(load.result, 'b') > 0, 5_000, 'b added from the new record');
  dns.down('silent');
  const failures = readStat(inst, 'cluster.app.update_failure');
  await eventually(() => readStat(inst, 'cluster.app.update_failure') > failures, 10_000, 'a lookup failed');
  const [sa, sb] = [servedBy(load.result, 'a'), servedBy(load.result, 'b')];
  await eventually(() => servedBy(load.result, 'a') > sa && servedBy(load.result, 'b') > sb, 3_000, 'both still take traffic');
  assert.equal(readStat(inst, 'cluster.app.membership_total'), 2n);
  dns.up();
  dns.set('app.test', { a: ['127.0.0.2'] });
  await eventually(() => readStat(inst, 'cluster.app.membership_total') === 1n, 10_000, 'a removed once the resolver answers again');
  const result = await load.stop();
  assert.deepEqual(result.failures, []);
});
