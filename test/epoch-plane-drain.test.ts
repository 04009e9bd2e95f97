/**
 * The data-plane changes the epoch relies on, at plane level: several sockets per listener, a
 * repeated startDrain that brings the deadline forward, and hurry.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:net';
import type { ListenerConfig } from '../src/config/types.js';
import { RawClient, cluster, delay, httpListener, makeConfig, startPlane, startRawBackend } from './fixtures/proxy-util.js';

const direct = [{ match: { prefix: '/' }, directResponse: { status: 200, body: 'ok' } }];

test('a listener accepts on every socket it is given, and stopAccepting closes them all', async (t) => {
  const h = await startPlane(t, makeConfig([httpListener('web', direct)]));
  const second = createServer();
  second.listen({ port: 0, host: '127.0.0.1' });
  await once(second, 'listening');
  h.plane.addListener('web', second);
  for (const port of [h.ports.web as number, (second.address() as { port: number }).port]) {
    const c = await RawClient.open(t, port);
    c.get('/');
    assert.equal((await c.response()).status, 200);
  }
  assert.equal(h.counter('listener.web.downstream_cx_total'), 2);
  h.plane.stopAccepting();
  assert.equal(h.servers.web?.listening, false);
  assert.equal(second.listening, false);
});

test('startDrain again with a sooner deadline closes idle connections at the sooner one', async (t) => {
  const h = await startPlane(t, makeConfig([httpListener('web', direct)]));
  const c = await RawClient.open(t, h.ports.web as number);
  c.get('/');
  await c.response();
  const start = Date.now();
  h.plane.startDrain({ strategy: 'gradual', drainTimeMs: 5000, deadlineAt: start + 5000 });
  h.plane.startDrain({ strategy: 'gradual', drainTimeMs: 5000, deadlineAt: start + 10_000 });
  h.plane.startDrain({ strategy: 'immediate', drainTimeMs: 200, deadlineAt: start + 200 });
  await c.whenClosed();
  const ms = Date.now() - start;
  assert.ok(ms >= 150 && ms < 1000, `closed at +${ms} ms`);
  assert.equal(h.counter('listener.web.downstream_cx_drain_idle_close'), 1);
});

test('hurry: idle connections close at once, a request just sent is answered with close, what is left is forced after the grace', async (t) => {
  const be = await startRawBackend(t, () => {}); // never answers
  const h = await startPlane(t, makeConfig([httpListener('web', [{ match: { prefix: '/never' }, cluster: 'app' }, ...direct])], [cluster('app', [be.port])]));
  const idle = await RawClient.open(t, h.ports.web as number);
  idle.get('/');
  await idle.response();
  const racing = await RawClient.open(t, h.ports.web as number);
  racing.get('/');
  await racing.response();
  const busy = await RawClient.open(t, h.ports.web as number);
  busy.get('/never');
  const silent = await RawClient.open(t, h.ports.web as number);
  await delay(50);
  const start = Date.now();
  h.plane.hurry(400);
  // Looked idle when hurry came, but its next request was already on its way: answered, not cut.
  racing.get('/');
  const r = await racing.response();
  assert.equal(r.status, 200);
  assert.equal(r.headers.connection, 'close');
  // Idle ones (also one that never sent anything) are closed right away.
  await silent.whenClosed();
  await idle.whenClosed();
  assert.ok(Date.now() - start < 250);
  await busy.whenClosed();
  const ms = Date.now() - start;
  assert.ok(ms >= 350 && ms < 1000, `forced at +${ms} ms`);
  await racing.whenClosed();
  await h.plane.whenIdle();
  assert.equal(h.counter('listener.web.downstream_cx_drain_idle_close'), 2);
  assert.equal(h.counter('listener.web.downstream_cx_drain_close'), 1);
  assert.equal(h.counter('listener.web.downstream_cx_drain_forced'), 1);
});

test('forceAtDeadline: TCP connections are destroyed at the drain deadline and counted as forced', async (t) => {
  const be = await startRawBackend(t, (s) => s.on('data', (d: Buffer) => s.write(d)));
  const tcp: ListenerConfig = { name: 'raw', protocol: 'tcp', address: { host: '127.0.0.1', port: 0 }, cluster: 'app' };
  const h = await startPlane(t, makeConfig([tcp, httpListener('web', direct)], [cluster('app', [be.port])]));
  const raw = await RawClient.open(t, h.ports.raw as number);
  const idle = await RawClient.open(t, h.ports.web as number);
  idle.get('/');
  await idle.response();
  await delay(30);
  const start = Date.now();
  h.plane.startDrain({ strategy: 'gradual', drainTimeMs: 150, deadlineAt: start + 150, forceAtDeadline: true });
  await raw.whenClosed();
  await idle.whenClosed();
  const ms = Date.now() - start;
  assert.ok(ms >= 100 && ms < 800, `closed at +${ms} ms`);
  await h.plane.whenIdle();
  assert.equal(h.counter('listener.raw.downstream_cx_drain_forced'), 1);
  assert.equal(h.counter('listener.web.downstream_cx_drain_idle_close'), 1);
  assert.equal(h.counter('listener.web.downstream_cx_drain_forced'), 0);
});
