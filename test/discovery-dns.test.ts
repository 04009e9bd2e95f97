/**
 * strictDns discovery against a DNS server on loopback that each test controls: the set
 * follows the records, a failed lookup keeps the last good hosts, an answer with no records
 * empties the cluster.
 */
import assert from 'node:assert/strict';
import test from 'node:test';
import { DnsServer } from './fixtures/dns-server.js';
import { discover, dnsCluster, waitFor } from './fixtures/discovery-util.js';

const NAME = 'app.proxyctl.test';

test('strictDns: the first answer is the initial set, sorted, each address with the configured port and weight 1', async (t) => {
  const dns = await DnsServer.start(t);
  dns.set(NAME, { a: ['10.0.0.2', '10.0.0.1'] });
  const h = discover(t, dnsCluster('app', { name: NAME, port: 8080 }, dns.port));
  await h.discovery.initialized(5_000);
  assert.deepEqual(h.recorder.sets, [['10.0.0.1:8080', '10.0.0.2:8080']]);
  assert.deepEqual(h.recorder.endpoints[0]?.[0], { host: '10.0.0.1', port: 8080, weight: 1, locality: null, metadata: null });
  assert.equal(h.counter('update_attempt') >= 1, true);
  assert.equal(h.counter('update_success') >= 1, true);
  assert.equal(h.counter('update_failure'), 0);
  assert.ok(h.logs.some((l) => l.level === 'info' && l.fields.cluster === 'app' && l.fields.hosts === 2), 'the applied change is logged with its count');
});

test('strictDns: a record change is followed at the next refresh; the same records in another order are no change', async (t) => {
  const dns = await DnsServer.start(t);
  dns.set(NAME, { a: ['10.0.0.1', '10.0.0.2'] });
  const h = discover(t, dnsCluster('app', { name: NAME }, dns.port));
  await h.recorder.until(() => h.recorder.sets.length === 1, 'initial set');

  dns.set(NAME, { a: ['10.0.0.2', '10.0.0.1'] });
  const seen = dns.queries;
  await waitFor(() => dns.queries >= seen + 3 && h.counter('update_no_rebuild') >= 2, 'refreshes answered in another order');
  assert.equal(h.recorder.sets.length, 1, 'a reordered answer is not a change');

  dns.set(NAME, { a: ['10.0.0.1', '10.0.0.3'] });
  await h.recorder.until(() => h.recorder.sets.length === 2, 'changed set');
  assert.deepEqual(h.recorder.last, ['10.0.0.1:80', '10.0.0.3:80']);
});

test('strictDns: while the resolver is down (silent or SERVFAIL) the hosts stay and each failure is counted; then it recovers', async (t) => {
  const dns = await DnsServer.start(t);
  dns.set(NAME, { a: ['10.0.0.1'] });
  const h = discover(t, dnsCluster('app', { name: NAME }, dns.port));
  await h.recorder.until(() => h.recorder.sets.length === 1, 'initial set');

  dns.down('silent');
  await h.recorder.until(() => h.recorder.errors.length >= 1, 'a timed-out lookup', 10_000);
  dns.down('servfail');
  const before = h.recorder.errors.length;
  await h.recorder.until(() => h.recorder.errors.length >= before + 1, 'a SERVFAIL lookup', 10_000);
  assert.deepEqual(new Set(h.recorder.errors.map((e) => e.code)), new Set(['PROXYCTL_ERR_DISCOVERY_DNS']));
  assert.deepEqual(h.recorder.sets, [['10.0.0.1:80']], 'no set reported while down: the last good hosts stay');
  assert.equal(h.counter('update_failure') >= 2, true);
  assert.ok(h.logs.some((l) => l.level === 'warn' && l.fields.cluster === 'app' && l.fields.code === 'PROXYCTL_ERR_DISCOVERY_DNS'));

  dns.set(NAME, { a: ['10.0.0.9'] });
  dns.up();
  await h.recorder.until(() => h.recorder.sets.length === 2, 'the set after recovery', 10_000);
  assert.deepEqual(h.recorder.last, ['10.0.0.9:80']);
});

test('strictDns: NXDOMAIN empties the cluster, and so does an answer with no records (NODATA); neither is a failure', async (t) => {
  const dns = await DnsServer.start(t);
  dns.set(NAME, { a: ['10.0.0.1'] });
  const h = discover(t, dnsCluster('app', { name: NAME }, dns.port));
  await h.recorder.until(() => h.recorder.sets.length === 1, 'initial set');

  dns.nxdomain(NAME);
  await h.recorder.until(() => h.recorder.sets.length === 2, 'the emptied set');
  assert.deepEqual(h.recorder.last, []);
  assert.equal(h.counter('update_empty') >= 1, true);

  dns.set(NAME, { a: ['10.0.0.2'] });
  await h.recorder.until(() => h.recorder.sets.length === 3, 'the set again');
  dns.set(NAME, { aaaa: ['::1'] });
  await h.recorder.until(() => h.recorder.sets.length === 4, 'the set emptied by NODATA');
  assert.deepEqual(h.recorder.last, [], 'family v4 does not follow AAAA records');
  assert.deepEqual(h.recorder.errors, []);
  assert.equal(h.counter('update_failure'), 0);
});

test('strictDns: v6 follows AAAA records; all merges A and AAAA, and one family with no records is still an answer', async (t) => {
  const dns = await DnsServer.start(t);
  dns.set(NAME, { a: ['10.0.0.1'], aaaa: ['2001:db8::1', '::1'] });
  const v6 = discover(t, dnsCluster('v6', { name: NAME, family: 'v6', port: 9000 }, dns.port));
  const all = discover(t, dnsCluster('all', { name: NAME, family: 'all', port: 9000 }, dns.port));
  await v6.recorder.until(() => v6.recorder.sets.length === 1, 'v6 set');
  await all.recorder.until(() => all.recorder.sets.length === 1, 'all set');
  assert.deepEqual(v6.recorder.last, ['[2001:db8::1]:9000', '[::1]:9000']);
  assert.deepEqual(all.recorder.last, ['10.0.0.1:9000', '[2001:db8::1]:9000', '[::1]:9000']);

  dns.set(NAME, { a: ['10.0.0.1'] });
  await all.recorder.until(() => all.recorder.sets.length === 2, 'all set with A only');
  assert.deepEqual(all.recorder.last, ['10.0.0.1:9000']);
  assert.deepEqual(all.recorder.errors, []);
});

test('strictDns: after stop() no more lookups are made and nothing more is reported', async (t) => {
  const dns = await DnsServer.start(t);
  dns.set(NAME, { a: ['10.0.0.1'] });
  const h = discover(t, dnsCluster('app', { name: NAME, refreshRateMs: 100 }, dns.port));
  await h.recorder.until(() => h.recorder.sets.length === 1, 'initial set');
  h.discovery.stop();
  const queries = dns.queries;
  dns.set(NAME, { a: ['10.0.0.2'] });
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(dns.queries, queries);
  assert.equal(h.recorder.sets.length, 1);
});
