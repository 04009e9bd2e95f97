/**
 * Hostile peers, on one plane built from a YAML config with short listener timeouts: clients
 * that stall (a head a byte at a time, a body that stops, a response never read, a keep-alive
 * or TCP connection left idle) and upstreams that misbehave (never answer, send garbage, close
 * mid-response, answer before the body is in). Every case runs at once, beside a normal
 * client whose requests must all succeed meanwhile (the client cases run over HTTP/1 and, where
 * HTTP/2 has its own way to end a stream, over HTTP/2); each asserts what its peer sees, and the
 * counters at the end moved by exactly what the cases caused.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { constants as h2c } from 'node:http2';
import { connect, type Socket } from 'node:net';
import { parseConfig } from '../src/config/index.js';
import { isProxyctlError } from '../src/errors.js';
import { join } from 'node:path';
import { linesOf } from './fixtures/access-log-util.js';
import { tempDir } from './helpers.js';
import { RawClient, closed, delay, startPlane, type PlaneHandle } from './fixtures/proxy-util.js';
import { BIG, backends, h2Cut, h2Idle, h2NeverReads, h2SlowPost, waitFor, yaml, type Backends } from './fixtures/hostile-peers.js';

const SLOWLORIS = 50;

/** Keep-alive GET /ok requests until `stop`, with each one's latency. */
async function normalClient(t: TestContext, port: number, stop: { done: boolean }): Promise<{ latencies: number[]; failures: string[] }> {
  const c = await RawClient.open(t, port);
  const latencies: number[] = [];
  const failures: string[] = [];
  while (!stop.done) {
    const at = performance.now();
    c.get('/ok');
    try {
      const r = await c.response();
      if (r.status === 200) latencies.push(performance.now() - at);
      else failures.push(`status ${r.status}`);
    } catch (err: unknown) {
      failures.push(String(err));
      break;
    }
  }
  c.socket.destroy();
  return { latencies, failures };
}

/** A request head written one byte every 150 ms; resolves with what came back before the proxy closed. */
async function slowloris(t: TestContext, port: number): Promise<string> {
  const s = connect(port, '127.0.0.1');
  t.after(() => s.destroy());
  s.on('error', () => {});
  await once(s, 'connect');
  const head = 'GET /ok HTTP/1.1\r\nhost: test\r\nx-slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n';
  let got = '';
  s.on('data', (d: Buffer) => {
    got += d.toString('latin1');
  });
  for (let i = 0; i < head.length && !s.destroyed && !s.readableEnded; i++) {
    s.write(head[i] as string);
    await delay(150);
  }
  await closed(s, 8_000);
  return got;
}

/** One request on its own connection, `connection: close`; the whole reply and whether the connection ended. */
async function once1(t: TestContext, port: number, path: string): Promise<string> {
  const c = await RawClient.open(t, port);
  c.get(path, 'connection: close\r\n');
  await c.whenClosed();
  return c.received().toString('latin1');
}

async function slowPost(t: TestContext, port: number): Promise<string> {
  const c = await RawClient.open(t, port);
  c.send('POST /post HTTP/1.1\r\nhost: test\r\ncontent-length: 100\r\n\r\n0123456789');
  await c.whenClosed();
  return c.received().toString('latin1');
}

/** Never reads a 32 MiB response; once the proxy counted the cut, reads what is left. */
async function neverReads(t: TestContext, h: PlaneHandle, port: number): Promise<number> {
  const s = connect(port, '127.0.0.1');
  t.after(() => s.destroy());
  s.on('error', () => {});
  await once(s, 'connect');
  s.pause();
  s.write('GET /big HTTP/1.1\r\nhost: test\r\n\r\n');
  await waitFor(() => h.counter('http.web.downstream_rq_send_timeout') === 1, 10_000, 'send timeout');
  let n = 0;
  s.on('data', (d: Buffer) => {
    n += d.length;
  });
  s.resume();
  await closed(s, 10_000);
  return n;
}

async function idleKeepAlive(t: TestContext, port: number): Promise<number> {
  const c = await RawClient.open(t, port);
  c.get('/ok');
  const r = await c.response();
  await c.whenClosed();
  return r.status;
}

/** A large POST answered 413 after its head: the rest of the body, sent after the answer, must not reach the upstream. */
async function earlyResponse(t: TestContext, b: Backends, port: number): Promise<{ status: number; connection: string; upstreamGot: number; sentAfter: number }> {
  const c = await RawClient.open(t, port);
  const chunk = Buffer.alloc(64 * 1024, 0x62);
  c.send(Buffer.concat([Buffer.from('POST /early HTTP/1.1\r\nhost: test\r\ncontent-length: 50000000\r\n\r\n'), chunk]));
  const r = await c.response();
  let sentAfter = 0;
  for (let i = 0; i < 16 && !c.closed; i++) {
    c.send(chunk);
    sentAfter += chunk.length;
    await delay(10);
  }
  await c.whenClosed();
  const upstreamGot = b.early.received();
  // The upstream connection was not reused: the next request gets a new one.
  assert.match(await once1(t, port, '/early'), /^HTTP\/1\.1 413 /);
  assert.equal(b.early.connections(), 2);
  return { status: r.status, connection: r.headers.connection ?? '', upstreamGot, sentAfter };
}

async function tcpCases(t: TestContext, port: number): Promise<{ idleCut: boolean; chattyEchoes: number }> {
  const open = async (): Promise<Socket> => {
    const s = connect(port, '127.0.0.1');
    t.after(() => s.destroy());
    s.on('error', () => {});
    await once(s, 'connect');
    return s;
  };
  const idle = await open();
  idle.write('hi');
  await once(idle, 'data');
  const chatty = await open();
  let echoes = 0;
  chatty.on('data', () => {
    echoes++;
  });
  for (let i = 0; i < 8; i++) {
    chatty.write(`m${i}`);
    await delay(300);
  }
  assert.equal(chatty.destroyed, false, 'a connection with traffic every 300 ms is not idle');
  await closed(idle, 8_000);
  chatty.destroy();
  return { idleCut: true, chattyEchoes: echoes };
}

test('hostile clients and upstreams are cut at their timeouts, counted, and cost a normal client nothing', async (t) => {
  const b = await backends(t);
  const log = join(tempDir(t), 'access.log');
  const h = await startPlane(t, parseConfig(yaml(b, log), 'hostile.yaml', { cpus: 1 }).config);
  const web = h.ports.web as number;
  const stop = { done: false };
  const normal = normalClient(t, web, stop);

  const partialPreface = (async () => {
    const s = connect(web, '127.0.0.1');
    t.after(() => s.destroy());
    s.on('error', () => {});
    await once(s, 'connect');
    s.write('PRI * HTTP/2.0\r\n');
    await closed(s, 8_000);
  })();
  const [lorises, post, unread, idleStatus, early, hang, garbage, partial, cutLength, cutChunked, h2Length, h2Chunked, , h2Post, tcp] = await Promise.all([
    Promise.all(Array.from({ length: SLOWLORIS }, () => slowloris(t, web))),
    slowPost(t, web),
    neverReads(t, h, web).then(async (n) => ({ h1: n, h2Rst: await h2NeverReads(t, h, web) })),
    idleKeepAlive(t, web),
    earlyResponse(t, b, web),
    once1(t, web, '/hang'),
    once1(t, web, '/garbage'),
    once1(t, web, '/partial'),
    once1(t, web, '/cut-length'),
    once1(t, web, '/cut-chunked'),
    h2Cut(t, web, '/cut-length'),
    h2Cut(t, web, '/cut-chunked'),
    h2Idle(t, web),
    h2SlowPost(t, web),
    tcpCases(t, h.ports.tcp as number),
    partialPreface,
  ]);
  stop.done = true;
  const { latencies, failures } = await normal;

  // What each peer saw.
  for (const got of lorises) assert.match(got, /^HTTP\/1\.1 408 .*connection: close/s);
  assert.match(post, /^HTTP\/1\.1 408 /);
  assert.ok(unread.h1 > 0 && unread.h1 < BIG, `the unread response was cut (${unread.h1} bytes)`);
  assert.equal(unread.h2Rst, h2c.NGHTTP2_INTERNAL_ERROR);
  assert.deepEqual(h2Post, { status: 408, rstCode: h2c.NGHTTP2_NO_ERROR });
  assert.equal(idleStatus, 200);
  assert.equal(early.status, 413);
  assert.equal(early.connection, 'close');
  assert.ok(early.sentAfter > 0);
  assert.ok(early.upstreamGot <= 64 * 1024 + 1024, `the body sent after the answer stayed at the proxy (upstream got ${early.upstreamGot} B; ${early.sentAfter} B sent after)`);
  assert.match(hang, /^HTTP\/1\.1 504 /);
  assert.match(garbage, /^HTTP\/1\.1 502 /);
  assert.match(partial, /^HTTP\/1\.1 502 /);
  const [lengthHead = '', lengthBody = ''] = cutLength.split('\r\n\r\n');
  assert.match(lengthHead, /^HTTP\/1\.1 200 .*content-length: 1000/is);
  assert.equal(lengthBody.length, 100, 'a short body, then the close');
  assert.match(cutChunked, /^HTTP\/1\.1 200 .*\r\n\r\n5\r\nhello\r\n$/s);
  // HTTP/2: RST_STREAM, with or without a content-length, never a clean end of a short body.
  assert.deepEqual(h2Length, { rstCode: h2c.NGHTTP2_INTERNAL_ERROR, bytes: 100, ended: false });
  assert.deepEqual(h2Chunked, { rstCode: h2c.NGHTTP2_INTERNAL_ERROR, bytes: 5, ended: false });
  assert.ok(tcp.idleCut);
  assert.ok(tcp.chattyEchoes >= 1);

  // The normal client, meanwhile.
  assert.deepEqual(failures, []);
  assert.ok(latencies.length >= 100, `${latencies.length} normal requests`);
  latencies.sort((x, y) => x - y);
  const p99 = latencies[Math.floor(latencies.length * 0.99)] as number;
  t.diagnostic(`normal client: ${latencies.length} requests, p99 ${p99.toFixed(1)} ms`);
  assert.ok(p99 < 1000, `p99 ${p99.toFixed(1)} ms is under the 1 s timeouts`);

  // Counted exactly once each.
  const n = (s: string): number => h.counter(s);
  assert.equal(n('http.web.downstream_rq_header_timeout'), SLOWLORIS + 1); // the partial preface too
  assert.equal(n('http.web.downstream_rq_idle_timeout'), 2); // slow POST, HTTP/1 and 2
  assert.equal(n('http.web.downstream_rq_send_timeout'), 2); // unread response, HTTP/1 and 2
  assert.equal(n('http.web.downstream_cx_idle_timeout'), 2); // HTTP/1 keep-alive and HTTP/2 session
  assert.equal(n('http.web.downstream_rq_response_reset'), 4); // cut length and cut chunked, HTTP/1 and 2
  assert.equal(n('http.web.downstream_rq_4xx'), SLOWLORIS + 2 + 2); // 408s, the slow POSTs' 408s, two 413s
  assert.equal(n('cluster.hang.upstream_rq_timeout'), 1);
  assert.equal(n('cluster.hang.upstream_rq_504'), 1);
  assert.equal(n('cluster.garbage.upstream_rq_protocol_error'), 1);
  assert.equal(n('cluster.partial.upstream_rq_protocol_error'), 1);
  assert.equal(n('tcp.tcp.idle_timeout'), 1);

  // The access log says which were the client's stalls (SI) and which the upstream's.
  const want = ['/post 408 SI', '/big 200 SI', '/hang 504 UT', '/garbage 502 UPE', '/partial 502 UPE', '/cut-length 200 UC', '/cut-chunked 200 UC'];
  const has = (): boolean => want.every((w) => linesOf(log).includes(w));
  await waitFor(has, 5_000, 'access log lines');
});

test('listener timeouts: parsed with their defaults left to the plane, and refused on the wrong protocol', () => {
  const base = 'clusters:\n  - name: c\n    endpoints: ["127.0.0.1:9"]\nlisteners:\n';
  const http = `${base}  - name: w\n    address: 127.0.0.1:8080\n    protocol: http\n    routes: [{ match: { prefix: / }, cluster: c }]\n`;
  const l = parseConfig(`${http}    timeouts: { requestHeaders: 5s, send: 250ms }\n`, 't.yaml').config.listeners[0];
  assert.deepEqual(l?.timeouts, { requestHeadersMs: 5_000, sendMs: 250 });
  assert.equal(parseConfig(http, 't.yaml').config.listeners[0]?.timeouts, undefined);
  const refused = (text: string): string[] => {
    try {
      parseConfig(text, 't.yaml');
    } catch (err: unknown) {
      assert.ok(isProxyctlError(err, 'PROXYCTL_ERR_CONFIG_INVALID'));
      return (err.details.errors as { path: string }[]).map((e) => e.path);
    }
    return [];
  };
  assert.deepEqual(refused(`${http}    timeouts: { tcpIdle: 1s }\n`), ['listeners[0].timeouts.tcpIdle']);
  assert.deepEqual(refused(`${http}    timeouts: { idle: 0s }\n`), ['listeners[0].timeouts.idle']);
  assert.deepEqual(refused(`${http}    timeouts: { idel: 1s }\n`), ['listeners[0].timeouts.idel']);
  const tcp = `${base}  - name: t\n    address: 127.0.0.1:8081\n    protocol: tcp\n    cluster: c\n`;
  assert.deepEqual(refused(`${tcp}    timeouts: { requestBody: 1s }\n`), ['listeners[0].timeouts.requestBody']);
  assert.deepEqual(parseConfig(`${tcp}    timeouts: { tcpIdle: 2h }\n`, 't.yaml').config.listeners[0]?.timeouts, { tcpIdleMs: 7_200_000 });
});
