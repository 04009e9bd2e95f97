/** What a request carries besides head and body: `expect: 100-continue` and request trailers. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect as h2connect, type ClientHttp2Stream } from 'node:http2';
import type { TestContext } from 'node:test';
import type { ListenerConfig } from '../src/config/types.js';
import { RawClient, cluster, headsOf, httpListener, listenOnLoopback, makeConfig, startPlane, startRawBackend, type PlaneHandle } from './fixtures/proxy-util.js';
import { curl } from './fixtures/clients.js';
import { eventually } from './fixtures/supervisor-util.js';

/** A node:http upstream that answers with what it saw of the request: `handler(req, body)`. */
async function echoPlane(t: TestContext, handler: (req: IncomingMessage, body: string) => string, filtered = false): Promise<{ h: PlaneHandle; url: string }> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.setEncoding('latin1');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => res.end(handler(req, body)));
  });
  const port = await listenOnLoopback(t, server);
  const l = httpListener('web', [{ match: { prefix: '/' }, cluster: 'app' }], { http2: true });
  // Through an HTTP filter the request takes the filtered path (filtered-exchange.ts), not the raw one.
  const withFilter = { ...l, httpFilters: [{ name: 'headers', config: { request: { set: { 'x-filtered': 'yes' } } } }] } as ListenerConfig;
  const h = await startPlane(t, makeConfig([filtered ? withFilter : l], [cluster('app', [port])]));
  return { h, url: `http://127.0.0.1:${h.ports.web as number}` };
}

async function responseOf(req: ClientHttp2Stream): Promise<{ status: unknown; body: string }> {
  let body = '';
  req.setEncoding('latin1');
  req.on('data', (d: string) => (body += d));
  const [headers] = (await once(req, 'response')) as [Record<string, unknown>];
  await once(req, 'end');
  return { status: headers[':status'], body };
}

test('expect: 100-continue over HTTP/2: the upstream\'s 100 reaches the client before it sends the body, and the body flows', { timeout: 20_000 }, async (t) => {
  const { url } = await echoPlane(t, (req, body) => `${req.headers.expect}|${body}`);
  const session = h2connect(url);
  t.after(() => session.destroy());
  const req = session.request({ ':method': 'POST', ':path': '/up', expect: '100-continue' });
  const res = responseOf(req);
  await once(req, 'continue'); // nothing of the body has been sent yet
  req.end('the body');
  assert.deepEqual(await res, { status: 200, body: '100-continue|the body' });
  // curl shows the interim response too.
  const r = await curl(['--http2-prior-knowledge', '-H', 'Expect: 100-continue', '--data-binary', 'x'.repeat(2000), '-D', '-', `${url}/curl`]);
  assert.equal(r.status, 200);
  assert.match(r.body, /^HTTP\/2 100/);
  assert.ok(r.body.endsWith(`100-continue|${'x'.repeat(2000)}`));
});

test('HTTP/2 request trailers reach an HTTP/1.1 upstream as chunked trailers; fields a trailer may not carry are dropped', async (t) => {
  const { url } = await echoPlane(t, (req, body) => JSON.stringify({ te: req.headers['transfer-encoding'] ?? null, cl: req.headers['content-length'] ?? null, body, trailers: req.trailers }));
  const session = h2connect(url);
  t.after(() => session.destroy());
  // Without content-length the body is chunked anyway.
  const a = session.request({ ':method': 'POST', ':path': '/a' }, { waitForTrailers: true });
  a.on('wantTrailers', () => a.sendTrailers({ 'x-checksum': 'abc123', authorization: 'Bearer late', 'content-type': 'text/evil' }));
  a.end('payload');
  const ra = await responseOf(a);
  assert.equal(ra.status, 200);
  assert.deepEqual(JSON.parse(ra.body), { te: 'chunked', cl: null, body: 'payload', trailers: { 'x-checksum': 'abc123' } });
  // With content-length, announced trailers make the HTTP/1.1 hop chunked so they can go along.
  const b = session.request({ ':method': 'POST', ':path': '/b', 'content-length': '4', trailer: 'x-sig' }, { waitForTrailers: true });
  b.on('wantTrailers', () => b.sendTrailers({ 'x-sig': 'zz' }));
  b.end('data');
  assert.deepEqual(JSON.parse((await responseOf(b)).body), { te: 'chunked', cl: null, body: 'data', trailers: { 'x-sig': 'zz' } });
});

test('HTTP/1.1 chunked request trailers pass through to the upstream', async (t) => {
  const { h } = await echoPlane(t, (req, body) => `${body}|${JSON.stringify(req.trailers)}`);
  const c = await RawClient.open(t, h.ports.web as number);
  c.send('POST /t HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\ntrailer: x-sum\r\n\r\n3\r\nabc\r\n0\r\nx-sum: 42\r\n\r\n');
  const r = await c.response();
  assert.equal(r.status, 200);
  assert.equal(r.body.toString(), 'abc|{"x-sum":"42"}');
});

test('through HTTP filters: the 100 reaches HTTP/2 and HTTP/1.1 clients, and HTTP/2 request trailers reach the upstream', { timeout: 20_000 }, async (t) => {
  const { h, url } = await echoPlane(t, (req, body) => `${String(req.headers['x-filtered'])}|${String(req.headers.expect)}|${body}|${JSON.stringify(req.trailers)}`, true);
  const session = h2connect(url);
  t.after(() => session.destroy());
  const req = session.request({ ':method': 'POST', ':path': '/up', expect: '100-continue' }, { waitForTrailers: true });
  const res = responseOf(req);
  await once(req, 'continue');
  req.on('wantTrailers', () => req.sendTrailers({ 'x-checksum': 'abc', authorization: 'late' }));
  req.end('body');
  assert.deepEqual(await res, { status: 200, body: 'yes|100-continue|body|{"x-checksum":"abc"}' });
  const c = await RawClient.open(t, h.ports.web as number);
  c.send('POST /one HTTP/1.1\r\nhost: x\r\ncontent-length: 3\r\nexpect: 100-continue\r\n\r\n');
  await eventually(() => c.received().toString('latin1').startsWith('HTTP/1.1 100 Continue\r\n'), 5_000, 'the 100 before the body');
  c.send('abc');
  const r = await c.response();
  assert.equal(r.status, 100);
  assert.equal((await c.response()).body.toString(), 'yes|100-continue|abc|{}');
});

for (const filtered of [false, true]) {
test(`HTTP/2 response from an HTTP/1 upstream that sends te and http2-settings${filtered ? ', through an HTTP filter' : ''}: they are dropped (node:http2 refuses them), other fields arrive as sent`, async (t) => {
  const backend = await startRawBackend(t, (s) =>
    headsOf(s, (head, sock) => {
      const early = 'HTTP/1.1 103 Early Hints\r\nTE: trailers\r\nHTTP2-Settings: AAMAAABk\r\nlink: </a.css>; rel=preload\r\n\r\n';
      const final = 'HTTP/1.1 200 OK\r\nhttp2-settings: AAMAAABk\r\nTE: gzip\r\nconstructor: kept\r\ncontent-length: 2\r\n\r\nok';
      sock.write(head.startsWith('GET /interim ') ? early + final : final);
    }),
  );
  const l = httpListener('web', [{ match: { prefix: '/' }, cluster: 'app' }], { http2: true });
  const withFilter = { ...l, httpFilters: [{ name: 'headers', config: { response: { set: { 'x-filtered': 'yes' } } } }] } as ListenerConfig;
  const h = await startPlane(t, makeConfig([filtered ? withFilter : l], [cluster('app', [backend.port])]));
  const session = h2connect(`http://127.0.0.1:${h.ports.web as number}`);
  t.after(() => session.destroy());
  for (const path of ['/interim', '/final']) {
    const req = session.request({ ':path': path });
    const interim: Record<string, unknown>[] = [];
    req.on('headers', (hs: Record<string, unknown>) => interim.push(hs));
    let body = '';
    req.setEncoding('latin1');
    req.on('data', (d: string) => (body += d));
    const [headers] = (await once(req, 'response')) as [Record<string, unknown>];
    await once(req, 'end');
    assert.equal(headers[':status'], 200, path);
    assert.equal(body, 'ok');
    assert.equal(headers.constructor, 'kept');
    assert.equal(headers.te, undefined);
    assert.equal(headers['http2-settings'], undefined);
    assert.equal(headers['x-filtered'], filtered ? 'yes' : undefined);
    if (path === '/interim') {
      assert.equal(interim.length, 1);
      assert.equal(interim[0]?.[':status'], 103);
      assert.equal(interim[0]?.link, '</a.css>; rel=preload');
      assert.equal(interim[0]?.te, undefined);
    }
  }
});
}
