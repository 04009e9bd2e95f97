/**
 * The epoch's drain under a stand-in supervisor: drain with and without exit, deadlines per
 * protocol (HTTP keep-alive, HTTP in flight, TCP), hurry, and a supervisor that goes away.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { RawClient, delay, headsOf, startRawBackend, type Backend } from './fixtures/proxy-util.js';
import { FakeSupervisor, adminRequest, freePorts, testConfig } from './fixtures/epoch-fake-supervisor.js';

/** A backend: `/slow` answers after `slowMs`, `/never` never does, anything else at once. */
function slowBackend(t: TestContext, slowMs: number): Promise<Backend> {
  return startRawBackend(t, (s) =>
    headsOf(s, (head, sock) => {
      const path = head.split(' ')[1] ?? '';
      if (path === '/app/never') return;
      const answer = (): void => void sock.write(`HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nyes`);
      if (path === '/app/slow') setTimeout(answer, slowMs);
      else answer();
    }),
  );
}

/** Resolves with ms since `from` when the client's connection ends. */
async function closedAfter(c: RawClient, from: number): Promise<number> {
  await c.whenClosed();
  return Date.now() - from;
}

test('drain with exit: an idle keep-alive connection stays until the deadline, its next response says close, then exit 0', async (t) => {
  const [web, admin] = (await freePorts(2)) as [number, number];
  const sup = await FakeSupervisor.start(t, { configText: testConfig({ web, admin }) });
  const epoch = sup.spawnEpoch(2);
  await sup.ready();
  const c = await RawClient.open(t, web);
  c.get('/');
  assert.equal((await c.response()).headers.connection, undefined);

  const start = Date.now();
  const reply = await sup.request({ type: 'drain', strategy: 'immediate', drainTimeMs: 600, parentShutdownTimeMs: 3000, exit: true });
  assert.equal(reply.body.connections, 1);
  await delay(450 - (Date.now() - start));
  assert.equal(c.closed || c.ended, false, 'idle connection closed before the drain deadline');
  assert.ok(epoch.alive);
  c.get('/');
  const r = await c.response();
  assert.equal(r.status, 200);
  assert.equal(r.headers.connection, 'close');
  await c.whenClosed();
  // Idle after that one close: the exit does not wait for parentShutdownTime.
  assert.deepEqual(await epoch.exitWithin(1500), { code: 0, signal: null });
  assert.ok(Date.now() - start < 2500);
  assert.equal(sup.counter('listener.web.downstream_cx_drain_close'), 1);
  assert.equal(sup.counter('listener.web.downstream_cx_drain_forced'), 0);
});

test('drain without exit: /ready 503, the epoch stays up with no connection left, terminate ends it', async (t) => {
  const [web, admin] = (await freePorts(2)) as [number, number];
  const sup = await FakeSupervisor.start(t, { configText: testConfig({ web, admin }) });
  const epoch = sup.spawnEpoch(1);
  await sup.ready();
  assert.equal((await adminRequest(admin, '/ready')).status, 200);
  const drain = { type: 'drain', strategy: 'gradual', drainTimeMs: 300, parentShutdownTimeMs: 600, exit: false } as const;
  assert.equal((await sup.request(drain)).body.connections, 0);
  assert.equal((await sup.request(drain)).body.connections, 0, 'a repeated drain is harmless');
  const notReady = await adminRequest(admin, '/ready');
  assert.equal(notReady.status, 503);
  assert.equal(notReady.body, 'DRAINING\n');
  assert.equal((JSON.parse((await adminRequest(admin, '/server_info')).body) as { state: string }).state, 'draining');
  await delay(900); // past drainTime and parentShutdownTime
  assert.ok(epoch.alive);
  const status = await sup.request({ type: 'epochStatus' });
  assert.deepEqual(status.body, { type: 'epochStatus', connections: 0, workers: 2, draining: true });
  assert.equal((await adminRequest(admin, '/ready')).status, 503);
  await sup.request({ type: 'terminate' });
  assert.deepEqual(await epoch.exitWithin(2000), { code: 0, signal: null });
});

test('a drain without exit becomes one with exit: the idle epoch leaves at once', async (t) => {
  const [web] = (await freePorts(1)) as [number];
  const sup = await FakeSupervisor.start(t, { configText: testConfig({ web }) });
  const epoch = sup.spawnEpoch(1);
  await sup.ready();
  await sup.request({ type: 'drain', strategy: 'gradual', drainTimeMs: 5000, parentShutdownTimeMs: 10_000, exit: false });
  await delay(100);
  assert.ok(epoch.alive);
  const start = Date.now();
  await sup.request({ type: 'drain', strategy: 'gradual', drainTimeMs: 5000, parentShutdownTimeMs: 10_000, exit: true });
  assert.equal((await epoch.exitWithin(2000)).code, 0);
  assert.ok(Date.now() - start < 1500);
});

test('drain deadlines per protocol: TCP forced at drainTime, HTTP in flight finishes, what is left is forced at parentShutdownTime', async (t) => {
  const be = await slowBackend(t, 700);
  const [web, raw] = (await freePorts(2)) as [number, number];
  const sup = await FakeSupervisor.start(t, { configText: testConfig({ web, raw, backend: be.port }) });
  const epoch = sup.spawnEpoch(1);
  await sup.ready();
  const tcp = await RawClient.open(t, raw);
  tcp.get('/tcp');
  await tcp.response();
  const slow = await RawClient.open(t, web);
  const never = await RawClient.open(t, web);
  slow.get('/app/slow');
  never.get('/app/never');
  await delay(50);

  const start = Date.now();
  const reply = await sup.request({ type: 'drain', strategy: 'gradual', drainTimeMs: 300, parentShutdownTimeMs: 1200, exit: true });
  assert.equal(reply.body.connections, 3);
  const tcpClosedAt = closedAfter(tcp, start);
  const slowResponse = slow.response();
  const neverClosedAt = closedAfter(never, start);

  const r = await slowResponse;
  assert.equal(r.status, 200);
  assert.equal(r.body.toString(), 'yes');
  assert.equal(r.headers.connection, 'close');
  const tcpMs = await tcpClosedAt;
  assert.ok(tcpMs >= 250 && tcpMs < 700, `tcp closed at +${tcpMs} ms`);
  const neverMs = await neverClosedAt;
  assert.ok(neverMs >= 1100 && neverMs < 2000, `in-flight request forced at +${neverMs} ms`);
  assert.deepEqual(await epoch.exitWithin(1500), { code: 0, signal: null });
  assert.equal(sup.counter('listener.raw.downstream_cx_drain_forced'), 1);
  assert.equal(sup.counter('listener.web.downstream_cx_drain_forced'), 1);
  assert.equal(sup.counter('listener.web.downstream_cx_drain_close'), 1);
});

test('hurry: idle connections close now, the rest after the grace, then exit 0', async (t) => {
  const be = await slowBackend(t, 0);
  const [web] = (await freePorts(1)) as [number];
  const sup = await FakeSupervisor.start(t, { configText: testConfig({ web, backend: be.port }) });
  const epoch = sup.spawnEpoch(1);
  await sup.ready();
  const idle = await RawClient.open(t, web);
  idle.get('/');
  await idle.response();
  const busy = await RawClient.open(t, web);
  busy.get('/app/never');
  await delay(50);

  const start = Date.now();
  const reply = await sup.request({ type: 'hurry', graceMs: 500 });
  assert.equal(reply.body.connections, 2);
  const idleMs = await closedAfter(idle, start);
  assert.ok(idleMs < 250, `idle closed at +${idleMs} ms`);
  const busyMs = await closedAfter(busy, start);
  assert.ok(busyMs >= 450 && busyMs < 1200, `busy closed at +${busyMs} ms`);
  assert.deepEqual(await epoch.exitWithin(1500), { code: 0, signal: null });
  assert.equal(sup.counter('listener.web.downstream_cx_drain_idle_close'), 1);
  assert.equal(sup.counter('listener.web.downstream_cx_drain_forced'), 1);
});

/** A serving epoch (immediate drain, 300 ms drain time) with one idle keep-alive connection. */
async function servingWithIdleClient(t: TestContext) {
  const [web] = (await freePorts(1)) as [number];
  const sup = await FakeSupervisor.start(t, { configText: testConfig({ web }, { drain: '{ strategy: immediate, drainTime: 300ms, parentShutdownTime: 600ms }' }) });
  const epoch = sup.spawnEpoch(1);
  await sup.ready();
  const c = await RawClient.open(t, web);
  c.get('/');
  await c.response();
  return { web, sup, epoch, c };
}

test('the supervisor goes away: the epoch stops accepting, drains with its config, and exits 0', async (t) => {
  const { web, sup, epoch, c } = await servingWithIdleClient(t);
  const start = Date.now();
  sup.server.close();
  await delay(50);
  // It no longer accepts: a new connection waits in the backlog of the sockets the keeper holds.
  const late = await RawClient.open(t, web);
  late.get('/');
  assert.equal(await Promise.race([late.response().then(() => 'answered'), delay(250).then(() => 'waiting')]), 'waiting');
  // The idle keep-alive connection is closed at the config's drain deadline, then the epoch leaves.
  const closedMs = await closedAfter(c, start);
  assert.ok(closedMs >= 250 && closedMs < 900, `closed at +${closedMs} ms`);
  assert.deepEqual(await epoch.exitWithin(1500), { code: 0, signal: null });
});

test('SIGTERM (the supervisor could not reach it): drain with the config, exit 0', async (t) => {
  const { epoch, c } = await servingWithIdleClient(t);
  const start = Date.now();
  epoch.child.kill('SIGTERM');
  const closedMs = await closedAfter(c, start);
  assert.ok(closedMs >= 250 && closedMs < 900, `closed at +${closedMs} ms`);
  assert.deepEqual(await epoch.exitWithin(1500), { code: 0, signal: null });
});
