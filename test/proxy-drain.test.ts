import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { RawClient, cluster, delay, headsOf, helloBackend, httpListener, makeConfig, startPlane, startRawBackend } from './fixtures/proxy-util.js';

const direct = [{ match: { prefix: '/' }, directResponse: { status: 200, body: 'ok' } }];

test('immediate drain: the next response carries Connection: close, then the connection closes', async (t) => {
  const be = await helloBackend(t);
  const h = await startPlane(
    t,
    makeConfig([httpListener('web', [{ match: { prefix: '/app' }, cluster: 'app' }, ...direct])], [cluster('app', [be.port])]),
  );
  const a = await RawClient.open(t, h.ports.web as number);
  const b = await RawClient.open(t, h.ports.web as number);
  a.get('/');
  b.get('/app');
  assert.equal((await a.response()).headers.connection, undefined);
  assert.equal((await b.response()).headers.connection, undefined);
  h.plane.startDrain({ strategy: 'immediate', drainTimeMs: 0, deadlineAt: Date.now() + 10_000 });
  h.plane.stopAccepting();
  a.get('/');
  b.get('/app');
  const ra = await a.response();
  const rb = await b.response();
  assert.equal(ra.status, 200);
  assert.equal(ra.headers.connection, 'close');
  assert.equal(rb.status, 200);
  assert.equal(rb.headers.connection, 'close');
  await a.whenClosed();
  await b.whenClosed();
  await h.plane.whenIdle();
  assert.equal(h.counter('listener.web.downstream_cx_drain_close'), 2);
  assert.equal(h.counter('http.web.downstream_rq_total'), 4);
  assert.equal(h.plane.closeAll('test'), 0);
});

test('gradual drain: an idle keep-alive connection stays open until the deadline, then is closed', async (t) => {
  const h = await startPlane(t, makeConfig([httpListener('web', direct)]));
  const idle = await RawClient.open(t, h.ports.web as number);
  const busy = await RawClient.open(t, h.ports.web as number);
  idle.get('/');
  await idle.response();
  const start = Date.now();
  h.plane.startDrain({ strategy: 'gradual', drainTimeMs: 400, deadlineAt: start + 1200 });
  h.plane.stopAccepting();
  // Requests on the busy connection: keep-alive until its point in [start, start+400], then close.
  let closes = 0;
  while (Date.now() - start < 700 && closes === 0) {
    busy.get('/');
    const r = await busy.response();
    if (r.headers.connection === 'close') closes++;
    await delay(25);
  }
  assert.equal(closes, 1);
  await busy.whenClosed();
  // The idle one is untouched well past the drain time, right up to the deadline.
  await delay(Math.max(0, start + 1000 - Date.now()));
  assert.equal(idle.ended || idle.closed, false, 'idle connection closed before the deadline');
  await idle.whenClosed();
  const closedAt = Date.now() - start;
  assert.ok(closedAt >= 1150 && closedAt < 2500, `closed at +${closedAt} ms`);
  await h.plane.whenIdle();
  assert.equal(h.counter('listener.web.downstream_cx_drain_idle_close'), 1);
  assert.equal(h.counter('listener.web.downstream_cx_drain_close'), 1);
});

test('an in-flight slow streaming response finishes byte-exact after startDrain, then closes', async (t) => {
  const payload = randomBytes(200_000);
  const be = await startRawBackend(t, (s) =>
    headsOf(s, (_head, sock) => {
      sock.write(`HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n`);
      let off = 0;
      const timer = setInterval(() => {
        const piece = payload.subarray(off, off + 20_000);
        off += piece.length;
        sock.write(`${piece.length.toString(16)}\r\n`);
        sock.write(piece);
        sock.write('\r\n');
        if (off >= payload.length) {
          clearInterval(timer);
          sock.write('0\r\n\r\n');
        }
      }, 40);
    }),
  );
  const h = await startPlane(t, makeConfig([httpListener('web', [{ match: { prefix: '/' }, cluster: 'app' }])], [cluster('app', [be.port])]));
  const c = await RawClient.open(t, h.ports.web as number);
  c.get('/stream');
  await delay(60);
  h.plane.startDrain({ strategy: 'immediate', drainTimeMs: 0, deadlineAt: Date.now() + 200 });
  h.plane.stopAccepting();
  const r = await c.response();
  assert.equal(r.status, 200);
  assert.equal(createHash('sha1').update(r.body).digest('hex'), createHash('sha1').update(payload).digest('hex'));
  // Its head went out keep-alive before the drain: the connection ends after this response.
  await c.whenClosed();
  await h.plane.whenIdle();
  assert.equal(h.counter('http.web.downstream_rq_total'), 1);
});

test('closeAll destroys what remains and counts forced closes', async (t) => {
  const be = await startRawBackend(t, () => {}); // never answers
  const h = await startPlane(t, makeConfig([httpListener('web', [{ match: { prefix: '/' }, cluster: 'app' }])], [cluster('app', [be.port])]));
  const a = await RawClient.open(t, h.ports.web as number);
  const b = await RawClient.open(t, h.ports.web as number);
  a.get('/');
  await delay(50);
  h.plane.startDrain({ strategy: 'gradual', drainTimeMs: 100, deadlineAt: Date.now() + 100 });
  await delay(300);
  // b was idle and closed at the deadline; a is in flight.
  await b.whenClosed();
  assert.equal(h.plane.connections(), 1);
  assert.equal(h.plane.closeAll('deadline'), 1);
  await a.whenClosed();
  await h.plane.whenIdle();
  assert.equal(h.counter('listener.web.downstream_cx_drain_forced'), 1);
  assert.equal(h.gauge('listener.web.downstream_cx_active'), 0);
});

test('closeAll twice before the sockets close counts each forced close once', async (t) => {
  // The epoch's terminate runs closeAll('terminate') and then shutdown's closeAll at once; a
  // destroyed connection stays in the set until its 'close' event, a loop turn later.
  const h = await startPlane(t, makeConfig([httpListener('web', direct)]));
  const a = await RawClient.open(t, h.ports.web as number);
  const b = await RawClient.open(t, h.ports.web as number);
  a.get('/');
  b.get('/');
  await a.response();
  await b.response();
  assert.equal(h.plane.closeAll('terminate'), 2);
  assert.equal(h.plane.closeAll('shutdown'), 0);
  await a.whenClosed();
  await b.whenClosed();
  assert.equal(h.counter('listener.web.downstream_cx_drain_forced'), 2);
  assert.equal(h.gauge('listener.web.downstream_cx_active'), 0);
});
