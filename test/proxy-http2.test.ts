/** Downstream HTTP/2 (h2c with prior knowledge) with real clients: curl, h2load, node:http2. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect as h2connect, constants } from 'node:http2';
import type { TestContext } from 'node:test';
import { cluster, httpListener, listenOnLoopback, makeConfig, startPlane } from './fixtures/proxy-util.js';
import { eventually } from './fixtures/supervisor-util.js';
import { curl, h2load } from './fixtures/clients.js';

/** A node:http upstream; `handler` answers. Closed after the test. */
async function upstream(t: TestContext, handler: (req: IncomingMessage, res: ServerResponse, body: Buffer) => void): Promise<number> {
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => handler(req, res, Buffer.concat(parts)));
  });
  server.keepAliveTimeout = 30_000;
  return listenOnLoopback(t, server);
}

async function h2Plane(t: TestContext, backendPort: number) {
  return startPlane(
    t,
    makeConfig(
      [
        httpListener(
          'web',
          [
            { match: { prefix: '/health' }, directResponse: { status: 200, body: 'ok\n' } },
            { match: { prefix: '/' }, cluster: 'app' },
          ],
          { http2: true },
        ),
      ],
      [cluster('app', [backendPort])],
    ),
  );
}

test('h2c with prior knowledge: curl gets the upstream answer over HTTP/2, headers both ways, dechunked body', async (t) => {
  const port = await upstream(t, (req, res) => {
    res.setHeader('set-cookie', ['a=1', 'b=2']);
    res.setHeader('x-seen-host', req.headers.host ?? '');
    res.setHeader('x-seen-test', String(req.headers['x-test']));
    res.setHeader('x-seen-xff', String(req.headers['x-forwarded-for']));
    res.setHeader('x-seen-xfp', String(req.headers['x-forwarded-proto']));
    res.setHeader('x-seen-rid', String(req.headers['x-request-id']));
    res.write('hello '); // no content-length: chunked on the HTTP/1.1 hop
    res.end(`${req.method} ${req.url}`);
  });
  const h = await h2Plane(t, port);
  const url = `http://127.0.0.1:${h.ports.web}/a/b?c=d`;
  const r = await curl(['--http2-prior-knowledge', '-H', 'x-test: 42', '-H', 'x-forwarded-for: 10.9.8.7', '-H', 'x-forwarded-proto: https', '-D', '-', url]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.httpVersion, '2');
  assert.equal(r.status, 200);
  assert.match(r.body, /^set-cookie: a=1\r$/m);
  assert.match(r.body, /^set-cookie: b=2\r$/m);
  assert.match(r.body, new RegExp(`^x-seen-host: 127.0.0.1:${h.ports.web}\\r$`, 'm'));
  assert.match(r.body, /^x-seen-test: 42\r$/m);
  assert.match(r.body, /^x-seen-xff: 10.9.8.7, 127.0.0.1\r$/m);
  assert.match(r.body, /^x-seen-xfp: http\r$/m);
  assert.match(r.body, /^x-seen-rid: [0-9a-f-]{36}\r$/m);
  assert.doesNotMatch(r.body, /transfer-encoding/i);
  assert.ok(r.body.endsWith('hello GET /a/b?c=d'), r.body);
  // HTTP/1.1 on the same listener still works.
  const one = await curl(['--http1.1', url]);
  assert.equal(one.httpVersion, '1.1');
  assert.equal(one.body, 'hello GET /a/b?c=d');
  assert.equal(h.counter('http.web.downstream_rq_2xx'), 2);
});

test('h2c: request bodies with and without content-length reach the upstream whole; direct responses and 404', async (t) => {
  const port = await upstream(t, (req, res, body) => res.end(`${req.headers['content-length'] ?? 'chunked'}:${body.length}:${body.toString().slice(0, 5)}`));
  const h = await h2Plane(t, port);
  const base = `http://127.0.0.1:${h.ports.web}`;
  const posted = await curl(['--http2-prior-knowledge', '--data-binary', 'x'.repeat(100_000), `${base}/upload`]);
  assert.equal(posted.status, 200);
  assert.equal(posted.body, '100000:100000:xxxxx');
  // node:http2 without content-length: the HTTP/1.1 hop is chunked.
  const session = h2connect(`http://127.0.0.1:${h.ports.web}`);
  t.after(() => session.destroy());
  const req = session.request({ ':method': 'POST', ':path': '/stream' });
  req.write('abc');
  req.end('defgh');
  const chunks: Buffer[] = [];
  req.on('data', (d: Buffer) => chunks.push(d));
  const [headers] = (await once(req, 'response')) as [Record<string, unknown>];
  await once(req, 'end');
  assert.equal(headers[':status'], 200);
  assert.equal(Buffer.concat(chunks).toString(), 'chunked:8:abcde');
  const health = await curl(['--http2-prior-knowledge', `${base}/health`]);
  assert.deepEqual([health.status, health.body], [200, 'ok\n']);
  assert.equal(h.counter('http.web.downstream_rq_total'), 3);
});

test('a session whose only streams were answered directly still idles out', { timeout: 10_000 }, async (t) => {
  const h = await startPlane(t, makeConfig([httpListener('web', [{ match: { prefix: '/' }, directResponse: { status: 200, body: 'ok\n' } }], { http2: true })]), { idleMs: 300 });
  const session = h2connect(`http://127.0.0.1:${h.ports.web}`);
  t.after(() => session.destroy());
  const r = session.request({ ':path': '/health' });
  r.resume();
  await once(r, 'end');
  await once(session, 'close'); // the proxy closed it after idleMs
  assert.equal(h.gauge('http.web.downstream_cx_http2_active'), 0);
});

test('h2load: 2000 requests over 10 connections with 100 streams each all succeed', async (t) => {
  const port = await upstream(t, (_req, res) => res.end('x'.repeat(512)));
  const h = await h2Plane(t, port);
  const r = await h2load(['-n', '2000', '-c', '10', '-m', '100', `http://127.0.0.1:${h.ports.web}/`]);
  assert.equal(r.succeeded, 2000, r.output);
  assert.equal(r.status2xx, 2000, r.output);
  assert.equal(h.counter('http.web.downstream_rq_2xx'), 2000);
  // h2load has closed its connections; the gauge follows once the proxy has seen the closes.
  await eventually(() => h.gauge('http.web.downstream_cx_http2_active') === 0, 5_000, 'the HTTP/2 connections closed');
});

test('drain sends GOAWAY and lets the stream in flight finish; a client reset is counted', async (t) => {
  const gate: { release: (() => void) | null } = { release: null };
  const port = await upstream(t, (req, res) => {
    if (req.url === '/slow') gate.release = () => res.end('slow done');
    else res.end('fast');
  });
  const h = await h2Plane(t, port);
  const session = h2connect(`http://127.0.0.1:${h.ports.web}`);
  t.after(() => session.destroy());
  const goaway = once(session, 'goaway');
  const slow = session.request({ ':path': '/slow' });
  const slowBody: Buffer[] = [];
  slow.on('data', (d: Buffer) => slowBody.push(d));
  await eventually(() => gate.release !== null, 5_000, 'the slow request upstream');
  assert.equal(h.gauge('http.web.downstream_cx_http2_active'), 1);
  h.plane.startDrain({ strategy: 'immediate', drainTimeMs: 0, deadlineAt: Date.now() + 5_000 });
  const [code] = (await goaway) as [number];
  assert.equal(code, constants.NGHTTP2_NO_ERROR);
  gate.release?.();
  await once(slow, 'end');
  assert.equal(Buffer.concat(slowBody).toString(), 'slow done');
  await once(session, 'close');
  assert.equal(h.counter('http.web.downstream_rq_2xx'), 1);

  // A stream the client resets before its answer.
  gate.release = null;
  const s2 = h2connect(`http://127.0.0.1:${h.ports.web}`);
  t.after(() => s2.destroy());
  const r2 = s2.request({ ':path': '/slow' });
  r2.on('error', () => {});
  await eventually(() => gate.release !== null, 5_000, 'the slow request upstream');
  r2.close(constants.NGHTTP2_CANCEL);
  await eventually(() => h.counter('http.web.downstream_rq_rx_reset') === 1, 5_000, 'the reset counted');
});

test('rapid reset (CVE-2023-44487): a client that opens and cancels streams in a loop is sent GOAWAY ENHANCE_YOUR_CALM, counted; others are served', async (t) => {
  const port = await upstream(t, (_req, res) => setTimeout(() => res.end('late'), 20));
  const h = await h2Plane(t, port);
  const url = `http://127.0.0.1:${h.ports.web}`;
  const abuser = h2connect(url);
  t.after(() => abuser.destroy());
  abuser.on('error', () => {});
  const goaway = new Promise<number>((resolve) => abuser.once('goaway', (code: number) => resolve(code)));
  await once(abuser, 'connect');
  let sent = 0;
  for (; sent < 5000 && !abuser.closed && !abuser.destroyed; sent++) {
    const r = abuser.request({ ':path': '/x' });
    r.on('error', () => {});
    r.close(constants.NGHTTP2_CANCEL);
    if (sent % 100 === 0) await new Promise((r) => setImmediate(r));
  }
  assert.equal(await goaway, constants.NGHTTP2_ENHANCE_YOUR_CALM);
  assert.ok(sent < 5000, `the session was ended after ${sent} resets`);
  assert.equal(h.counter('http.web.http2.abuse_rapid_reset'), 1);
  assert.equal(h.counter('http.web.http2.abuse_goaway'), 1);
  const ok = await curl(['--http2-prior-knowledge', `${url}/fine`]);
  assert.deepEqual([ok.status, ok.body], [200, 'late']);
});
