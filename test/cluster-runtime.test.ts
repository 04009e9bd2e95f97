/**
 * The worker's side of cluster state, on a real data plane and real sockets: a membership
 * published to the plane takes effect on the next request (RCU), flagged hosts get no traffic,
 * too few healthy hosts means panic (all of them take traffic), none at all means 503 `UH`,
 * degraded hosts help only when the healthy ones are too few, a retry goes to another host,
 * a hash policy keeps a key on one host, and a host in slow start gets a ramped share.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { hostData, newBudget } from '../src/clusters/membership.js';
import { BudgetSlot, HostFlag, HostSlot, type ClusterMembership } from '../src/clusters/types.js';
import { staticCluster } from '../src/config/static-cluster.js';
import type { ProxyConfig } from '../src/config/types.js';
import { RawClient, headsOf, httpListener, makeConfig, startPlane, startRawBackend, type Backend, type PlaneHandle } from './fixtures/proxy-util.js';

/** A backend that answers every request with its name. */
async function named(t: TestContext, name: string): Promise<Backend> {
  return startRawBackend(t, (s) =>
    headsOf(s, (_h, sock) => sock.write(`HTTP/1.1 200 OK\r\ncontent-length: ${name.length}\r\n\r\n${name}`)),
  );
}

function config(ports: readonly number[], keys: Record<string, unknown> = {}, route: Record<string, unknown> = {}): ProxyConfig {
  const c = staticCluster('app', ports.map((port) => ({ host: '127.0.0.1', port })), keys);
  return makeConfig([httpListener('web', [{ match: { prefix: '/' }, cluster: 'app', ...route }])], [c]);
}

let version = 1;
/** A membership of `hosts` (port → flags, optional weight and since), as the cluster manager would publish it. */
function membership(hosts: readonly { port: number; flags?: number; weight?: number; since?: number }[], budget = newBudget()): ClusterMembership {
  return { cluster: 'app', version: version++, budget, hosts: hosts.map((h) => hostData({ host: '127.0.0.1', port: h.port, weight: h.weight ?? 1, locality: null, metadata: null }, h.flags ?? 0, h.since ?? 0)) };
}

/** `n` requests on one keep-alive connection: the body of each (the backend's name) or its status. */
async function requests(t: TestContext, h: PlaneHandle, n: number, extra = ''): Promise<string[]> {
  const c = await RawClient.open(t, h.ports.web as number);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    c.get('/', extra);
    const r = await c.response();
    out.push(r.status === 200 ? r.body.toString() : String(r.status));
  }
  return out;
}

const count = (xs: readonly string[], x: string): number => xs.filter((v) => v === x).length;

test('a new membership applies to the next request: a flagged host gets none, a new host takes its share', async (t) => {
  const [a, b, c] = await Promise.all([named(t, 'a'), named(t, 'b'), named(t, 'c')]);
  const h = await startPlane(t, config([a.port, b.port]));
  assert.deepEqual([...new Set(await requests(t, h, 4))].sort(), ['a', 'b']);
  h.plane.applyMembership(membership([{ port: a.port, flags: HostFlag.FAILED_ACTIVE_HC }, { port: b.port }, { port: c.port }]));
  const got = await requests(t, h, 20);
  assert.equal(count(got, 'a'), 0);
  assert.equal(count(got, 'b'), 10);
  assert.equal(count(got, 'c'), 10);
  // An older membership than the one applied changes nothing.
  h.plane.applyMembership({ ...membership([{ port: a.port }]), version: 1 });
  assert.equal(count(await requests(t, h, 4), 'a'), 0);
});

test('below the panic threshold every host takes traffic (counted); with threshold 0 and none healthy the answer is 503 UH', async (t) => {
  const [a, b, c] = await Promise.all([named(t, 'a'), named(t, 'b'), named(t, 'c')]);
  const h = await startPlane(t, config([a.port, b.port, c.port]));
  // One of three healthy is 33 %, under the default 50 %: panic.
  h.plane.applyMembership(membership([{ port: a.port }, { port: b.port, flags: HostFlag.OUTLIER_EJECTED }, { port: c.port, flags: HostFlag.FAILED_ACTIVE_HC }]));
  const got = await requests(t, h, 9);
  assert.deepEqual([count(got, 'a'), count(got, 'b'), count(got, 'c')], [3, 3, 3]);
  assert.equal(h.counter('cluster.app.lb_healthy_panic'), 9);

  const h0 = await startPlane(t, config([a.port], { healthyPanicThreshold: 0 }));
  h0.plane.applyMembership(membership([{ port: a.port, flags: HostFlag.FAILED_ACTIVE_HC }]));
  assert.deepEqual(await requests(t, h0, 2), ['503', '503']);
  assert.equal(h0.counter('cluster.app.upstream_cx_none_healthy'), 2);
  // An empty cluster (discovery found nothing) answers the same.
  h0.plane.applyMembership(membership([]));
  assert.deepEqual(await requests(t, h0, 1), ['503']);
});

test('degraded hosts take traffic only while the healthy ones are below the panic threshold', async (t) => {
  const [a, b, c] = await Promise.all([named(t, 'a'), named(t, 'b'), named(t, 'c')]);
  const h = await startPlane(t, config([a.port, b.port, c.port]));
  h.plane.applyMembership(membership([{ port: a.port }, { port: b.port }, { port: c.port, flags: HostFlag.DEGRADED }]));
  assert.equal(count(await requests(t, h, 10), 'c'), 0, 'two of three healthy: the degraded one rests');
  h.plane.applyMembership(membership([{ port: a.port }, { port: b.port, flags: HostFlag.FAILED_ACTIVE_HC }, { port: c.port, flags: HostFlag.DEGRADED }]));
  const got = await requests(t, h, 10);
  assert.deepEqual([count(got, 'a'), count(got, 'b'), count(got, 'c')], [5, 0, 5]);
  assert.equal(h.counter('cluster.app.lb_healthy_panic'), 0);
});

test('a retry after a connect failure goes to another host; afterwards nothing is left counted in flight', async (t) => {
  const a = await named(t, 'a');
  const dead = await startRawBackend(t, () => {});
  await new Promise<void>((r) => dead.server.close(() => r()));
  // The plane starts from this membership, so its circuit-breaker counters are the ones read below.
  const m = membership([{ port: dead.port }, { port: a.port }]);
  const h = await startPlane(t, config([dead.port, a.port], {}, { retryPolicy: { retryOn: ['connect-failure'], numRetries: 1 } }), {}, { memberships: new Map([['app', m]]) });
  // One retry each: every request that met the dead host first was answered by a on its retry.
  assert.deepEqual(await requests(t, h, 6), ['a', 'a', 'a', 'a', 'a', 'a']);
  const failed = h.counter('cluster.app.upstream_cx_connect_fail');
  assert.ok(failed >= 1);
  assert.equal(h.counter('cluster.app.upstream_rq_retry'), failed);
  // A place left taken would, request by request, close the cluster to everyone (maxRequests, maxRetries).
  const budget = new Int32Array(m.budget);
  assert.deepEqual([budget[BudgetSlot.REQUESTS], budget[BudgetSlot.RETRIES], budget[BudgetSlot.PENDING]], [0, 0, 0]);
  for (const host of m.hosts) assert.equal(new Int32Array(host.counters)[HostSlot.ACTIVE], 0);
});

test('ringHash on a header: one key stays on one host, and removing another host does not move it', async (t) => {
  const backends = await Promise.all(['a', 'b', 'c', 'd'].map((n) => named(t, n)));
  const ports = backends.map((b) => b.port);
  const h = await startPlane(t, config(ports, { lb: 'ringHash', hashOn: { header: 'x-user' } }));
  const homes = new Map<string, string>();
  for (let u = 0; u < 12; u++) {
    const got = await requests(t, h, 3, `x-user: user-${u}\r\n`);
    assert.equal(new Set(got).size, 1, `user-${u} went to ${got.join(',')}`);
    homes.set(`user-${u}`, got[0] as string);
  }
  // Take away a host that is no key's home: nobody moves.
  const names = ['a', 'b', 'c', 'd'];
  const idle = names.findIndex((n) => ![...homes.values()].includes(n));
  const gone = idle >= 0 ? idle : names.indexOf(homes.get('user-0') as string);
  h.plane.applyMembership(membership(ports.filter((_p, i) => i !== gone).map((port) => ({ port }))));
  for (const [user, home] of homes) {
    if (home === names[gone]) continue;
    assert.deepEqual(await requests(t, h, 1, `x-user: ${user}\r\n`), [home], `${user} moved`);
  }
});

test('slow start: a host that just joined gets a ramped share of round robin, not an equal one', async (t) => {
  const [a, b] = await Promise.all([named(t, 'a'), named(t, 'b')]);
  const h = await startPlane(t, config([a.port, b.port], { slowStart: { window: '60s', minWeightPercent: 10 } }));
  h.plane.applyMembership(membership([{ port: a.port }, { port: b.port, since: Date.now() }]));
  const got = await requests(t, h, 44);
  // Weight 1 against about 0.1: b gets about 1 in 11 (smooth round robin spreads it exactly).
  assert.ok(count(got, 'b') >= 2 && count(got, 'b') <= 6, `b got ${count(got, 'b')} of 44`);
});
