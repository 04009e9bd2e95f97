import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { buildSnapshot } from '../src/proxy/index.js';
import {
  RawClient,
  cluster,
  delay,
  headsOf,
  helloBackend,
  httpListener,
  makeConfig,
  startPlane,
  startRawBackend,
} from './fixtures/proxy-util.js';

test('a direct response is answered from the route, keep-alive, and counted', async (t) => {
  const h = await startPlane(t, makeConfig([httpListener('web', [{ match: { prefix: '/health' }, directResponse: { status: 200, body: 'ok\n' } }])]));
  const c = await RawClient.open(t, h.ports.web as number);
  for (let i = 0; i < 3; i++) {
    c.get('/health');
    const r = await c.response();
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'ok\n');
    assert.equal(r.headers.connection, undefined);
  }
  c.get('/nothing-here');
  assert.equal((await c.response()).status, 404);
  assert.equal(h.counter('http.web.downstream_rq_total'), 4);
  assert.equal(h.counter('http.web.downstream_rq_2xx'), 3);
  assert.equal(h.counter('http.web.downstream_rq_4xx'), 1);
  assert.equal(h.counter('listener.web.downstream_cx_total'), 1);
  assert.equal(h.gauge('listener.web.downstream_cx_active'), 1);
});

test('proxied requests reuse a few keep-alive upstream connections; hop-by-hop headers are stripped', async (t) => {
  const seen: string[] = [];
  const be = await startRawBackend(t, (s) =>
    headsOf(s, (head, sock) => {
      seen.push(head);
      sock.write('HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nx-b: 1\r\ncontent-length: 2\r\n\r\nok');
    }),
  );
  const h = await startPlane(t, makeConfig([httpListener('web', [{ match: { prefix: '/' }, cluster: 'app' }])], [cluster('app', [be.port])]));
  const clients = await Promise.all([0, 1, 2, 3].map(() => RawClient.open(t, h.ports.web as number)));
  for (let round = 0; round < 25; round++) {
    for (const c of clients) c.get(`/r${round}`, 'connection: keep-alive, x-hop\r\nx-hop: 1\r\nproxy-connection: x\r\n');
    for (const c of clients) {
      const r = await c.response();
      assert.equal(r.status, 200);
      assert.equal(r.body.toString(), 'ok');
      assert.equal(r.headers['x-b'], '1');
      assert.equal(r.headers.connection, undefined);
      assert.equal(r.headers['keep-alive'], undefined);
    }
  }
  assert.ok(be.connections() <= 4, `backend saw ${be.connections()} connections for 100 requests`);
  assert.equal(seen.length, 100);
  for (const head of seen) {
    assert.doesNotMatch(head, /^(connection|x-hop|proxy-connection):/im);
    assert.match(head, /^host: test\r$/m);
  }
  assert.equal(h.counter('cluster.app.upstream_rq_total'), 100);
  assert.equal(h.counter('http.web.downstream_rq_total'), 100);
  assert.equal(h.counter('http.web.downstream_rq_2xx'), 100);
  assert.equal(h.gauge('cluster.app.upstream_cx_active'), be.connections());
});

test('round robin spreads requests over endpoints', async (t) => {
  const a = await helloBackend(t);
  const b = await helloBackend(t);
  const h = await startPlane(t, makeConfig([httpListener('web', [{ match: { prefix: '/' }, cluster: 'app' }])], [cluster('app', [a.port, b.port])]));
  const c = await RawClient.open(t, h.ports.web as number);
  for (let i = 0; i < 4; i++) {
    c.get('/x');
    assert.equal((await c.response()).status, 200);
  }
  assert.equal(a.connections(), 1);
  assert.equal(b.connections(), 1);
});

test('chunked request and response bodies pass through byte-exact', async (t) => {
  const received: Buffer[] = [];
  const be = await startRawBackend(t, (s) => {
    let acc = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      acc = Buffer.concat([acc, d]);
      const end = acc.indexOf('0\r\n\r\n');
      if (end >= 0 && acc.indexOf('\r\n\r\n') < end) {
        received.push(acc);
        acc = Buffer.alloc(0);
        s.write('HTTP/1.1 201 Created\r\ntransfer-encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n');
        setTimeout(() => s.write('6\r\n world\r\n0\r\nx-trailer: t\r\n\r\n'), 20);
      }
    });
  });
  const h = await startPlane(t, makeConfig([httpListener('web', [{ match: { prefix: '/' }, cluster: 'app' }])], [cluster('app', [be.port])]));
  const c = await RawClient.open(t, h.ports.web as number);
  const head = 'POST /up HTTP/1.1\r\nhost: t\r\ntransfer-encoding: chunked\r\nx-request-id: r1\r\n\r\n';
  c.send(`${head}4\r\nwiki\r\n`);
  await delay(20);
  c.send('5\r\npedia\r\n0\r\n\r\n');
  const r = await c.response();
  assert.equal(r.status, 201);
  assert.equal(r.body.toString(), 'hello world');
  // The head as sent, plus the forwarded fields; the body byte for byte.
  const forwarded = head.replace(/\r\n\r\n$/, '\r\nx-forwarded-for: 127.0.0.1\r\nx-forwarded-proto: http\r\n\r\n');
  assert.equal(Buffer.concat(received).toString('latin1'), `${forwarded}4\r\nwiki\r\n5\r\npedia\r\n0\r\n\r\n`);
  // The connection is still usable.
  c.send(`${head}0\r\n\r\n`);
  assert.equal((await c.response()).status, 201);
});

test('a large streamed response arrives byte-exact; a Content-Length request body too', async (t) => {
  const payload = randomBytes(8 * 1024 * 1024 + 17);
  let uploaded = Buffer.alloc(0);
  const be = await startRawBackend(t, (s) => {
    let acc = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      acc = Buffer.concat([acc, d]);
      const i = acc.indexOf('\r\n\r\n');
      const m = /content-length: (\d+)/i.exec(acc.subarray(0, i).toString());
      const n = m === null ? 0 : Number(m[1]);
      if (i < 0 || acc.length < i + 4 + n) return;
      uploaded = acc.subarray(i + 4, i + 4 + n);
      acc = acc.subarray(i + 4 + n);
      s.write(`HTTP/1.1 200 OK\r\ncontent-length: ${payload.length}\r\n\r\n`);
      // Stream in pieces, respecting backpressure, like a real backend.
      let off = 0;
      const pump = (): void => {
        while (off < payload.length) {
          const piece = payload.subarray(off, off + 65536);
          off += piece.length;
          if (!s.write(piece)) {
            s.once('drain', pump);
            return;
          }
        }
      };
      pump();
    });
  });
  const h = await startPlane(t, makeConfig([httpListener('web', [{ match: { prefix: '/' }, cluster: 'app' }])], [cluster('app', [be.port])]));
  const c = await RawClient.open(t, h.ports.web as number);
  const up = randomBytes(300_000);
  c.send(`PUT /big HTTP/1.1\r\nhost: t\r\ncontent-length: ${up.length}\r\n\r\n`);
  c.send(up);
  const r = await c.response();
  assert.equal(r.status, 200);
  assert.equal(createHash('sha256').update(r.body).digest('hex'), createHash('sha256').update(payload).digest('hex'));
  assert.ok(uploaded.equals(up));
});

test('pipelined requests are answered in order', async (t) => {
  const be = await startRawBackend(t, (s) =>
    headsOf(s, (head, sock) => {
      const path = head.split(' ')[1] ?? '';
      // Answer the first one late so later ones queue behind it.
      setTimeout(() => sock.write(`HTTP/1.1 200 OK\r\ncontent-length: ${path.length}\r\n\r\n${path}`), path === '/1' ? 50 : 0);
    }),
  );
  const h = await startPlane(
    t,
    makeConfig(
      [httpListener('web', [{ match: { prefix: '/d' }, directResponse: { status: 200, body: 'direct' } }, { match: { prefix: '/' }, cluster: 'app' }])],
      [cluster('app', [be.port])],
    ),
  );
  const c = await RawClient.open(t, h.ports.web as number);
  c.send('GET /1 HTTP/1.1\r\nhost: a\r\n\r\nGET /d HTTP/1.1\r\nhost: a\r\n\r\nGET /3 HTTP/1.1\r\nhost: a\r\n\r\nHEAD /d HTTP/1.1\r\nhost: a\r\n\r\nGET /5 HTTP/1.1\r\nhost: a\r\n\r\n');
  assert.equal((await c.response()).body.toString(), '/1');
  assert.equal((await c.response()).body.toString(), 'direct');
  assert.equal((await c.response()).body.toString(), '/3');
  const head = await c.response(true);
  assert.equal(head.headers['content-length'], '6');
  assert.equal((await c.response()).body.toString(), '/5');
  assert.equal(h.counter('http.web.downstream_rq_total'), 5);
});

test('503 when the backend is down, 404 without a route; the connection stays usable', async (t) => {
  const dead = await startRawBackend(t, () => {});
  const port = dead.port;
  await new Promise<void>((r) => dead.server.close(() => r()));
  const h = await startPlane(t, makeConfig([httpListener('web', [{ match: { prefix: '/app' }, cluster: 'app' }])], [cluster('app', [port])]));
  const c = await RawClient.open(t, h.ports.web as number);
  c.get('/app/x');
  const r = await c.response();
  assert.equal(r.status, 503);
  assert.equal(r.headers.connection, undefined);
  c.get('/other');
  assert.equal((await c.response()).status, 404);
  c.get('/app/y', 'connection: close\r\n');
  const r2 = await c.response();
  assert.equal(r2.status, 503);
  assert.equal(r2.headers.connection, 'close');
  await c.whenClosed();
  assert.equal(h.counter('cluster.app.upstream_cx_connect_fail'), 2);
  assert.equal(h.counter('cluster.app.upstream_rq_503'), 2);
  assert.equal(h.counter('http.web.downstream_rq_5xx'), 2);
  assert.equal(h.counter('http.web.downstream_rq_total'), 3);
});

test('a backend reset after the response started closes the downstream connection', async (t) => {
  const be = await startRawBackend(t, (s) =>
    headsOf(s, (_head, sock) => {
      sock.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial');
      setTimeout(() => sock.destroy(), 20);
    }),
  );
  const h = await startPlane(t, makeConfig([httpListener('web', [{ match: { prefix: '/' }, cluster: 'app' }])], [cluster('app', [be.port])]));
  const c = await RawClient.open(t, h.ports.web as number);
  c.get('/');
  await c.whenClosed();
  // Counted when its head arrived; no status class, since no whole response went out.
  assert.equal(h.counter('http.web.downstream_rq_total'), 1);
  assert.equal(h.counter('http.web.downstream_rq_2xx'), 0);
  assert.equal(h.counter('http.web.downstream_rq_response_reset'), 1);
});

test('upstream response timeout answers 504', async (t) => {
  const be = await startRawBackend(t, () => {}); // accepts, never answers
  const h = await startPlane(t, makeConfig([httpListener('web', [{ match: { prefix: '/' }, cluster: 'app' }])], [cluster('app', [be.port])]), {
    upstreamResponseMs: 300,
  });
  const c = await RawClient.open(t, h.ports.web as number);
  c.get('/');
  assert.equal((await c.response()).status, 504);
  assert.equal(h.counter('cluster.app.upstream_rq_504'), 1);
});

test('HEAD, 204 and 304 responses have no body and keep the connection usable', async (t) => {
  const be = await startRawBackend(t, (s) =>
    headsOf(s, (head, sock) => {
      const path = head.split(' ')[1];
      if (path === '/204') sock.write('HTTP/1.1 204 No Content\r\n\r\n');
      else if (path === '/304') sock.write('HTTP/1.1 304 Not Modified\r\ncontent-length: 10\r\n\r\n');
      else sock.write('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n'); // HEAD: length without a body
    }),
  );
  const h = await startPlane(t, makeConfig([httpListener('web', [{ match: { prefix: '/' }, cluster: 'app' }])], [cluster('app', [be.port])]));
  const c = await RawClient.open(t, h.ports.web as number);
  c.send('HEAD /h HTTP/1.1\r\nhost: a\r\n\r\n');
  const r = await c.response(true);
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-length'], '10');
  c.get('/204');
  assert.equal((await c.response()).status, 204);
  c.get('/304');
  assert.equal((await c.response()).status, 304);
  c.send('HEAD /h2 HTTP/1.1\r\nhost: a\r\n\r\n');
  assert.equal((await c.response(true)).status, 200);
  assert.equal(be.connections(), 1);
  assert.equal(h.counter('http.web.downstream_rq_total'), 4);
});

test('interim 100 Continue is relayed before the final response', async (t) => {
  const be = await startRawBackend(t, (s) => {
    let acc = '';
    s.on('data', (d: Buffer) => {
      acc += d.toString();
      if (acc.endsWith('\r\n\r\n') && !acc.includes('body')) s.write('HTTP/1.1 100 Continue\r\n\r\n');
      if (acc.endsWith('body')) s.write('HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\ndone');
    });
  });
  const h = await startPlane(t, makeConfig([httpListener('web', [{ match: { prefix: '/' }, cluster: 'app' }])], [cluster('app', [be.port])]));
  const c = await RawClient.open(t, h.ports.web as number);
  c.send('POST / HTTP/1.1\r\nhost: a\r\nexpect: 100-continue\r\ncontent-length: 4\r\n\r\n');
  assert.equal((await c.response(true)).status, 100);
  c.send('body');
  const r = await c.response();
  assert.equal(r.status, 200);
  assert.equal(r.body.toString(), 'done');
});

test('HTTP/1.0 clients: close by default, keep-alive when asked', async (t) => {
  const be = await helloBackend(t);
  const h = await startPlane(t, makeConfig([httpListener('web', [{ match: { prefix: '/' }, cluster: 'app' }])], [cluster('app', [be.port])]));
  const c = await RawClient.open(t, h.ports.web as number);
  c.send('GET /a HTTP/1.0\r\nconnection: keep-alive\r\n\r\n');
  const r = await c.response();
  assert.equal(r.headers.connection, 'keep-alive');
  c.send('GET /b HTTP/1.0\r\n\r\n');
  const r2 = await c.response();
  assert.equal(r2.body.toString(), 'hello /b\n');
  assert.equal(r2.headers.connection, 'close');
  await c.whenClosed();
  assert.equal(be.connections(), 1);
});

test('HTTP/1.0 clients get HTTP/1.0 framing: a chunked upstream body arrives dechunked and close-delimited', async (t) => {
  const be = await startRawBackend(t, (s) =>
    headsOf(s, (_head, sock) => sock.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n')),
  );
  const h = await startPlane(t, makeConfig([httpListener('web', [{ match: { prefix: '/' }, cluster: 'app' }])], [cluster('app', [be.port])]));
  const c = await RawClient.open(t, h.ports.web as number);
  c.send('GET /a HTTP/1.0\r\nconnection: keep-alive\r\n\r\n');
  await c.whenClosed();
  const text = c.received().toString('latin1');
  const [head, body] = text.split('\r\n\r\n');
  assert.doesNotMatch(head as string, /transfer-encoding/i);
  assert.match(head as string, /^connection: close$/im);
  assert.equal(body, 'hello world');
  // An HTTP/1.1 client on the same upstream gets the chunked framing untouched.
  const c11 = await RawClient.open(t, h.ports.web as number);
  c11.get('/b');
  const r = await c11.response();
  assert.equal(r.headers['transfer-encoding'], 'chunked');
  assert.equal(r.body.toString(), 'hello world');
});

test('RCU: a new snapshot applies from the next request on a live keep-alive connection', async (t) => {
  const route = (body: string) => [{ match: { prefix: '/' }, directResponse: { status: 200, body } }];
  const h = await startPlane(t, makeConfig([httpListener('web', route('one'))]));
  const c = await RawClient.open(t, h.ports.web as number);
  c.get('/');
  assert.equal((await c.response()).body.toString(), 'one');
  h.plane.applySnapshot(buildSnapshot(makeConfig([httpListener('web', route('two'))]), h.stats));
  c.get('/');
  assert.equal((await c.response()).body.toString(), 'two');
  assert.equal(h.counter('listener.web.downstream_cx_total'), 1);
  assert.equal(h.counter('http.web.downstream_rq_total'), 2);
});

test('RCU: new endpoints are used by later requests; pools of kept endpoints survive', async (t) => {
  const a = await helloBackend(t);
  const b = await helloBackend(t);
  const routes = [{ match: { prefix: '/' }, cluster: 'app' }];
  const h = await startPlane(t, makeConfig([httpListener('web', routes)], [cluster('app', [a.port])]));
  const c = await RawClient.open(t, h.ports.web as number);
  c.get('/');
  await c.response();
  h.plane.applySnapshot(buildSnapshot(makeConfig([httpListener('web', routes)], [cluster('app', [a.port, b.port])]), h.stats));
  for (let i = 0; i < 4; i++) {
    c.get('/');
    assert.equal((await c.response()).status, 200);
  }
  assert.equal(a.connections(), 1);
  assert.equal(b.connections(), 1);
});

test('stats: responses counted equal responses received, across outcomes', async (t) => {
  const be = await helloBackend(t);
  const h = await startPlane(
    t,
    makeConfig(
      [httpListener('web', [{ match: { prefix: '/direct' }, directResponse: { status: 302, body: '' } }, { match: { prefix: '/app' }, cluster: 'app' }])],
      [cluster('app', [be.port])],
    ),
  );
  let received = 0;
  const classes = [0, 0, 0, 0, 0, 0];
  for (let i = 0; i < 3; i++) {
    const c = await RawClient.open(t, h.ports.web as number);
    for (const p of ['/direct', '/app/1', '/nope', '/app/2']) {
      c.get(p);
      const r = await c.response();
      received++;
      classes[Math.floor(r.status / 100)] = (classes[Math.floor(r.status / 100)] ?? 0) + 1;
    }
    c.send('GET / HTTP/1.1\r\nhost: a\r\ncontent-length: 1\r\ntransfer-encoding: chunked\r\n\r\n');
    assert.equal((await c.response()).status, 400);
    received++;
    classes[4] = (classes[4] ?? 0) + 1;
    c.socket.end();
  }
  await delay(50);
  assert.equal(h.counter('http.web.downstream_rq_total'), received);
  for (const k of [2, 3, 4]) assert.equal(h.counter(`http.web.downstream_rq_${k}xx`), classes[k]);
  assert.equal(h.counter('listener.web.downstream_cx_total'), 3);
  assert.equal(h.gauge('listener.web.downstream_cx_active'), 0);
});

test('Connection: close: the response arrives whole and the proxy closes without waiting for the client FIN', async (t) => {
  const be = await helloBackend(t);
  const h = await startPlane(t, makeConfig([httpListener('web', [{ match: { prefix: '/' }, cluster: 'app' }])], [cluster('app', [be.port])]));
  const c = await RawClient.open(t, h.ports.web as number);
  c.get('/x', 'Connection: close\r\n');
  const r = await c.response();
  assert.equal(r.status, 200);
  assert.equal(r.headers.connection, 'close');
  assert.equal(r.body.toString(), 'hello /x\n');
  await c.whenClosed(); // the client never ended its side
  // A request pipelined behind the close is not answered, and the first response still is.
  const p = await RawClient.open(t, h.ports.web as number);
  p.send('GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n');
  const first = await p.response();
  assert.equal(first.body.toString(), 'hello /a\n');
  await p.whenClosed();
});

test('forwarded fields: x-forwarded-for appended, x-forwarded-proto replaced, x-request-id kept or made', async (t) => {
  const heads: string[] = [];
  const be = await startRawBackend(t, (s) =>
    headsOf(s, (head, sock) => {
      heads.push(head);
      sock.write('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n');
    }),
  );
  const h = await startPlane(t, makeConfig([httpListener('web', [{ match: { prefix: '/' }, cluster: 'app' }])], [cluster('app', [be.port])]));
  const c = await RawClient.open(t, h.ports.web as number);
  c.get('/a', 'x-forwarded-for: 10.0.0.1\r\nX-Forwarded-For: 10.0.0.2\r\nx-forwarded-proto: https\r\nx-request-id: abc-123\r\n');
  await c.response();
  c.get('/b');
  await c.response();
  const [first, second] = heads as [string, string];
  const lines = (head: string, name: string) => head.split('\r\n').filter((l) => l.toLowerCase().startsWith(`${name}:`));
  assert.deepEqual(lines(first, 'x-forwarded-for'), ['x-forwarded-for: 10.0.0.1, 10.0.0.2, 127.0.0.1']);
  assert.deepEqual(lines(first, 'x-forwarded-proto'), ['x-forwarded-proto: http']);
  assert.deepEqual(lines(first, 'x-request-id'), ['x-request-id: abc-123']);
  assert.deepEqual(lines(second, 'x-forwarded-for'), ['x-forwarded-for: 127.0.0.1']);
  assert.match(lines(second, 'x-request-id')[0] ?? '', /^x-request-id: [0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});
