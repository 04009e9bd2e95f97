import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BAD_FRAMING, BodyFramer, BodyMode, NEED_MORE } from '../src/proxy/http/body.js';
import { INCOMPLETE, MALFORMED, MessageHead, parseRequestHead, parseResponseHead } from '../src/proxy/http/head.js';
import { rewriteHead, CONNECTION_CLOSE } from '../src/proxy/http/rewrite.js';
import { RawClient, cluster, helloBackend, httpListener, makeConfig, startPlane } from './fixtures/proxy-util.js';
import { curl } from './fixtures/clients.js';

function req(text: string): { r: number; h: MessageHead } {
  const h = new MessageHead();
  return { r: parseRequestHead(Buffer.from(text, 'latin1'), 0, h), h };
}

test('request heads: well-formed ones parse, with framing facts recorded', () => {
  const text = 'POST /a?b HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\nConnection: close\r\n\r\nbody';
  const { r, h } = req(text);
  assert.equal(r, text.indexOf('\r\n\r\n') + 4);
  assert.equal(h.contentLength, 12);
  assert.equal(h.connClose, true);
  assert.equal(h.dropCount, 1);
  assert.equal(req('GET / HTTP/1.1\r\nhost: x\r\ncontent-length: 3\r\ncontent-length: 3\r\n\r\n').h.contentLength, 3);
  assert.equal(req('GET / HTTP/1.1\r\nhost: x\r\n').r, INCOMPLETE);
  assert.equal(req('GET / HTTP/1.0\r\n\r\n').h.version, 10);
  assert.equal(req('HEAD / HTTP/1.1\r\nhost: x\r\n\r\n').h.isHead, true);
});

test('request heads: ambiguous or malformed framing is refused', () => {
  const bad: Array<[string, number]> = [
    ['GET / HTTP/1.1\r\nhost: x\r\ncontent-length: 1\r\ntransfer-encoding: chunked\r\n\r\n', 400],
    ['GET / HTTP/1.1\r\nhost: x\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n', 400],
    ['GET / HTTP/1.1\r\nhost: x\r\ncontent-length: 1x\r\n\r\n', 400],
    ['GET / HTTP/1.1\r\nhost: x\r\ncontent-length: -1\r\n\r\n', 400],
    ['GET / HTTP/1.1\r\nhost: x\r\ncontent-length: 1, 1\r\n\r\n', 400],
    ['GET / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: gzip\r\n\r\n', 400],
    ['GET / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\ntransfer-encoding: chunked\r\n\r\n', 400],
    ['GET / HTTP/1.1\nhost: x\r\n\r\n', 400],
    ['GET / HTTP/1.1\r\nhost: x\n\n', 400],
    ['GET / HTTP/1.1\r\nhost: x\r\nx-a: 1\r\n folded\r\n\r\n', 400],
    ['GET / HTTP/1.1\r\nhost: x\r\nbad name: 1\r\n\r\n', 400],
    ['GET / HTTP/1.1\r\nhost: x\r\nx-a : 1\r\n\r\n', 400],
    ['GET / HTTP/1.1\r\nhost: x\r\nx-a: a\x01b\r\n\r\n', 400],
    ['GET / HTTP/1.1\r\nhost: x\r\nx-a: a\rb\r\n\r\n', 400],
    ['GET / HTTP/1.1\r\n\r\n', 400],
    ['GET / HTTP/1.1\r\nhost: a\r\nhost: b\r\n\r\n', 400],
    ['GET  / HTTP/1.1\r\nhost: x\r\n\r\n', 400],
    ['GET / HTTP/2.0\r\nhost: x\r\n\r\n', 400],
    ['\r\nGET / HTTP/1.1\r\nhost: x\r\n\r\n', 400],
    [`GET / HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(70_000)}\r\n\r\n`, 431],
    [`GET / HTTP/1.1\r\nhost: x\r\n${'x: 1\r\n'.repeat(200)}\r\n`, 431],
  ];
  for (const [text, status] of bad) {
    const { r, h } = req(text);
    assert.equal(r, MALFORMED, JSON.stringify(text.slice(0, 80)));
    assert.equal(h.error, status, JSON.stringify(text.slice(0, 80)));
  }
  // An unfinished head that is already too big is refused before its end arrives.
  const { r, h } = req(`GET / HTTP/1.1\r\nx: ${'a'.repeat(70_000)}`);
  assert.equal(r, MALFORMED);
  assert.equal(h.error, 431);
});

test('field values keep 0xA0 (latin1 NBSP): only SP and HTAB are optional whitespace', () => {
  const buf = Buffer.from('GET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: \t\xa01.2.3.4\xa0 \r\n\r\n', 'latin1');
  const h = new MessageHead();
  assert.ok(parseRequestHead(buf, 0, h) > 0);
  assert.equal(h.value(buf, 1), '\xa01.2.3.4\xa0');
});

test('Connection tokens are trimmed of SP/HTAB only: "close\\xa0" is not close, and names no header', () => {
  const buf = Buffer.from('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\xa0, x-a\xa0\r\nx-a: 1\r\n\r\n', 'latin1');
  const h = new MessageHead();
  assert.ok(parseRequestHead(buf, 0, h) > 0);
  assert.equal(h.connClose, false);
  assert.equal(h.drop[2], 0);
});

test('a head past maxBytes is 431 even when a bare LF follows the bound: the status does not depend on the reads', () => {
  const text = `GET / HTTP/1.1\r\nHost: x\r\nx-a: ${'a'.repeat(100)}\n\r\n`;
  const h = new MessageHead();
  h.maxBytes = 64;
  assert.equal(parseRequestHead(Buffer.from(text.slice(0, 80), 'latin1'), 0, h), MALFORMED);
  assert.equal(h.error, 431);
  const whole = new MessageHead();
  whole.maxBytes = 64;
  assert.equal(parseRequestHead(Buffer.from(text, 'latin1'), 0, whole), MALFORMED);
  assert.equal(whole.error, 431);
});

test('Connection-named headers are dropped, but never framing headers', () => {
  const text = 'GET / HTTP/1.1\r\nhost: x\r\nconnection: x-a, content-length\r\nx-a: 1\r\nx-b: 2\r\ncontent-length: 0\r\n\r\n';
  const buf = Buffer.from(text, 'latin1');
  const h = new MessageHead();
  const end = parseRequestHead(buf, 0, h);
  const out = rewriteHead(buf, h, CONNECTION_CLOSE, end).toString('latin1');
  assert.equal(out, 'GET / HTTP/1.1\r\nhost: x\r\nx-b: 2\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
});

test('response heads: status, framing, and refusal of CL with TE', () => {
  const h = new MessageHead();
  const ok = Buffer.from('HTTP/1.1 404 Not Found\r\ncontent-length: 3\r\n\r\nabc');
  assert.equal(parseResponseHead(ok, 0, h), ok.length - 3);
  assert.equal(h.status, 404);
  assert.equal(parseResponseHead(Buffer.from('HTTP/1.1 200\r\n\r\n'), 0, h) > 0, true);
  assert.equal(parseResponseHead(Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 1\r\ntransfer-encoding: chunked\r\n\r\n'), 0, h), MALFORMED);
  assert.equal(h.error, 502);
  assert.equal(parseResponseHead(Buffer.from('HTTP/1.1 2000 OK\r\n\r\n'), 0, h), MALFORMED);
});

test('chunked framing: finds the end across reads, refuses bad framing', () => {
  const f = new BodyFramer();
  const msg = Buffer.from('4;x=y\r\nwiki\r\n5\r\npedia\r\n0\r\ntrailer: 1\r\n\r\nNEXT');
  for (let split = 1; split < msg.length - 4; split++) {
    f.reset(BodyMode.Chunked, 0);
    assert.equal(f.feed(msg, 0, split), NEED_MORE);
    assert.equal(f.feed(msg, split, msg.length), msg.length - 4, `split at ${split}`);
  }
  for (const bad of ['x\r\n', '4\r\nwikiXX', '4\nwiki\r\n', '0\r\n\n', '4\r\nwiki\r\n0\r\n bad\r\n\r\n', 'ffffffffffffff\r\n']) {
    f.reset(BodyMode.Chunked, 0);
    assert.equal(f.feed(Buffer.from(bad), 0, bad.length), BAD_FRAMING, JSON.stringify(bad));
  }
  f.reset(BodyMode.Length, 5);
  assert.equal(f.feed(Buffer.from('abc'), 0, 3), NEED_MORE);
  assert.equal(f.feed(Buffer.from('deXY'), 0, 4), 2);
});

test('chunked framing: whitespace after a size only before ";", trailer lines must be field lines', () => {
  const f = new BodyFramer();
  for (const bad of ['1 1\r\nx\r\n0\r\n\r\n', '0 1\r\n\r\n', '0\r\n\x7fx: 1\r\n\r\n', '0\r\nno-colon\r\n\r\n', '0\r\nx y: 1\r\n\r\n', '0\r\nx: \x7f\r\n\r\n']) {
    f.reset(BodyMode.Chunked, 0);
    assert.equal(f.feed(Buffer.from(bad, 'latin1'), 0, bad.length), BAD_FRAMING, JSON.stringify(bad));
  }
  for (const good of ['1 ;a=b\r\nx\r\n0\r\n\r\n', '1\t\r\nx\r\n0\r\nx-t: \xa0v\r\n\r\n']) {
    f.reset(BodyMode.Chunked, 0);
    assert.equal(f.feed(Buffer.from(good, 'latin1'), 0, good.length), good.length, JSON.stringify(good));
  }
});

test('malformed requests on the wire get 400/431 and the connection is closed', async (t) => {
  const be = await helloBackend(t);
  const h = await startPlane(t, makeConfig([httpListener('web', [{ match: { prefix: '/' }, cluster: 'app' }])], [cluster('app', [be.port])]));
  const cases: Array<[string, number]> = [
    ['GET / HTTP/1.1\r\nhost: x\r\ncontent-length: 1\r\ntransfer-encoding: chunked\r\n\r\nx', 400],
    ['GET / HTTP/1.1\r\nhost: x\r\ncontent-length: abc\r\n\r\n', 400],
    ['GET / HTTP/1.1\nhost: x\n\n', 400],
    [`GET / HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(70_000)}\r\n\r\n`, 431],
    ['POST / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n', 400],
  ];
  for (const [text, status] of cases) {
    const c = await RawClient.open(t, h.ports.web as number);
    c.send(text);
    const r = await c.response();
    assert.equal(r.status, status);
    assert.equal(r.headers.connection, 'close');
    await c.whenClosed();
  }
  assert.equal(be.connections(), 0);
  assert.equal(h.counter('http.web.downstream_rq_protocol_error'), cases.length);
  assert.equal(h.counter('http.web.downstream_rq_total'), cases.length);
});

test('a head that trickles in byte by byte is parsed', async (t) => {
  const h = await startPlane(t, makeConfig([httpListener('web', [{ match: { prefix: '/' }, directResponse: { status: 200, body: 'y' } }])]));
  const c = await RawClient.open(t, h.ports.web as number);
  for (const ch of 'GET /slow HTTP/1.1\r\nhost: x\r\n\r\n') {
    c.send(ch);
    await new Promise((r) => setImmediate(r));
  }
  assert.equal((await c.response()).status, 200);
});

test('a slow client that never finishes its head is cut off by the header-read timeout', async (t) => {
  const h = await startPlane(t, makeConfig([httpListener('web', [{ match: { prefix: '/' }, directResponse: { status: 200, body: 'y' } }])]), {
    headerReadMs: 300,
  });
  const c = await RawClient.open(t, h.ports.web as number);
  c.send('GET / HTTP/1.1\r\nhost');
  const t0 = Date.now();
  await c.whenClosed();
  assert.ok(Date.now() - t0 < 2000);
});

test('a listener sets its own head limits: past maxRequestHeadersKb or maxRequestHeaders, 431 over HTTP/1 and HTTP/2', async (t) => {
  const be = await helloBackend(t);
  const small = { ...httpListener('small', [{ match: { prefix: '/' }, cluster: 'app' }], { http2: true }), maxRequestHeadersKb: 1, maxRequestHeaders: 3 };
  const h = await startPlane(t, makeConfig([small, httpListener('big', [{ match: { prefix: '/' }, cluster: 'app' }])], [cluster('app', [be.port])]));
  const ask = async (port: number, extra: string): Promise<number> => {
    const c = await RawClient.open(t, port);
    c.send(`GET /x HTTP/1.1\r\nhost: t\r\n${extra}\r\n`);
    return (await c.response()).status;
  };
  assert.equal(await ask(h.ports.small as number, 'a: 1\r\nb: 2\r\n'), 200);
  assert.equal(await ask(h.ports.small as number, 'a: 1\r\nb: 2\r\nc: 3\r\n'), 431);
  assert.equal(await ask(h.ports.small as number, `x-big: ${'a'.repeat(1100)}\r\n`), 431);
  assert.equal(await ask(h.ports.big as number, `x-big: ${'a'.repeat(50_000)}\r\n`), 200);
  const h2big = await curl(['--http2-prior-knowledge', '-H', `x-big: ${'a'.repeat(2000)}`, `http://127.0.0.1:${h.ports.small}/x`]);
  assert.equal(h2big.status, 431);
  const h2ok = await curl(['--http2-prior-knowledge', `http://127.0.0.1:${h.ports.small}/x`]);
  assert.equal(h2ok.status, 200);
});
