/**
 * Clusters with `protocol: http2`: node:http2 upstreams (h2c and h2 over TLS) behind the data
 * plane, reached by curl, h2load and raw HTTP/1.1 clients over both downstream codecs and
 * through HTTP filters. Streams share sessions, GOAWAY and refused streams are survived, and
 * upgrades are answered locally.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { constants } from 'node:http2';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../src/config/index.js';
import type { HttpTimeouts } from '../src/proxy/index.js';
import { readSnapshot } from '../src/shm/index.js';
import { tempDir } from './helpers.js';
import { RawClient, startPlane, type PlaneHandle } from './fixtures/proxy-util.js';
import { curl, h2load } from './fixtures/clients.js';
import { h2Upstream, type H2Handler } from './fixtures/h2-upstream.js';
import { makeCa, makeLeaf, read } from './fixtures/tls-util.js';
import { eventually } from './fixtures/supervisor-util.js';

/** What the upstream saw, as the response body: method, path, authority, forwarded-for, body size and its first bytes. */
const echo: H2Handler = (req, res, body) => {
  res.setHeader('x-seen-version', req.httpVersion);
  res.setHeader('set-cookie', ['a=1', 'b=2']);
  res.end(`${req.method} ${req.url} ${req.headers[':authority']} ${req.headers['x-forwarded-for']} ${req.headers['content-length'] ?? '-'} ${body.length} ${body.subarray(0, 4).toString()}`);
};

/** One http listener (HTTP/1 and h2c) on `/` to cluster `app`; `clusterExtra` is YAML flow keys for the cluster. */
function plane(t: TestContext, port: number, clusterExtra = '', listenerExtra = '', timeouts: Partial<HttpTimeouts> = {}): Promise<PlaneHandle> {
  const yaml = `
listeners:
  - name: web
    address: 127.0.0.1:1
    protocol: http
    http2: true
${listenerExtra}    routes:
      - { match: { prefix: / }, cluster: app }
clusters:
  - { name: app, endpoints: ["127.0.0.1:${port}"], protocol: http2${clusterExtra} }
`;
  return startPlane(t, parseConfig(yaml, 'h2.yaml', { cpus: 1 }).config, timeouts);
}

test('HTTP/1.1 and HTTP/2 clients reach an h2c cluster: bodies both ways, a chunked request body dechunked, one session', async (t) => {
  const up = await h2Upstream(t, echo);
  const h = await plane(t, up.port);
  const base = `http://127.0.0.1:${h.ports.web}`;

  const one = await curl(['--http1.1', '-D', '-', `${base}/a?b=c`]);
  assert.equal(one.status, 200);
  assert.equal(one.httpVersion, '1.1');
  assert.match(one.body, /^x-seen-version: 2\.0\r$/m);
  assert.match(one.body, /^set-cookie: a=1\r$/m);
  assert.match(one.body, /^set-cookie: b=2\r$/m);
  assert.ok(one.body.endsWith(`GET /a?b=c 127.0.0.1:${h.ports.web} 127.0.0.1 - 0 `), one.body);

  const big = join(tempDir(t, 'proxyctl-h2up-'), 'big');
  writeFileSync(big, 'x'.repeat(200_000));
  const posted = await curl(['--http1.1', '--data-binary', `@${big}`, `${base}/up`]);
  assert.equal(posted.body, `POST /up 127.0.0.1:${h.ports.web} 127.0.0.1 200000 200000 xxxx`);
  const chunked = await curl(['--http1.1', '-H', 'transfer-encoding: chunked', '--data-binary', 'hello chunks', `${base}/chunked`]);
  assert.equal(chunked.body, `POST /chunked 127.0.0.1:${h.ports.web} 127.0.0.1 - 12 hell`);
  const viaH2 = await curl(['--http2-prior-knowledge', '--data-binary', `@${big}`, `${base}/h2`]);
  assert.equal(viaH2.httpVersion, '2');
  assert.equal(viaH2.body, `POST /h2 127.0.0.1:${h.ports.web} 127.0.0.1 200000 200000 xxxx`);

  // A response without content-length reaches an HTTP/1.1 client chunked, and an HTTP/1.0 one close-delimited.
  const streamed = await h2Upstream(t, (_req, res) => {
    res.write('part one, ');
    setTimeout(() => res.end('part two'), 20);
  });
  const h2 = await plane(t, streamed.port);
  const c = await RawClient.open(t, h2.ports.web as number);
  c.get('/s');
  const r = await c.response();
  assert.equal(r.headers['transfer-encoding'], 'chunked');
  assert.equal(r.body.toString(), 'part one, part two');
  const old = await curl(['--http1.0', `http://127.0.0.1:${h2.ports.web}/old`]);
  assert.equal(old.body, 'part one, part two');

  assert.equal(up.sessions.length, 1, 'every request went on one session');
  assert.equal(h.counter('cluster.app.upstream_cx_http2_total'), 1);
  assert.equal(h.counter('cluster.app.upstream_rq_total'), 4);
  assert.equal(readSnapshot(h.stats).histograms.get('cluster.app.upstream_rq_time')?.count, 4);
});

test('h2 over TLS: ALPN h2 with the cluster CA, verified; a CA that did not sign the certificate is a 503', async (t) => {
  const dir = tempDir(t, 'proxyctl-h2tls-');
  makeCa(dir, 'ca');
  makeCa(dir, 'other');
  makeLeaf(dir, 'up', 'ca', ['up.test']);
  const up = await h2Upstream(t, echo, { tls: { cert: read(dir, 'up.pem'), key: read(dir, 'up.key') } });
  const yaml = `
listeners:
  - name: web
    address: 127.0.0.1:1
    protocol: http
    routes:
      - { match: { prefix: /bad }, cluster: bad }
      - { match: { prefix: / }, cluster: app }
clusters:
  - { name: app, endpoints: ["127.0.0.1:${up.port}"], protocol: http2, tls: { sni: up.test, caFile: ${join(dir, 'ca.pem')} } }
  - { name: bad, endpoints: ["127.0.0.1:${up.port}"], protocol: http2, tls: { sni: up.test, caFile: ${join(dir, 'other.pem')} } }
`;
  const h = await startPlane(t, parseConfig(yaml, 'h2tls.yaml', { cpus: 1 }).config);
  const base = `http://127.0.0.1:${h.ports.web}`;
  for (const path of ['/x', '/y']) {
    const r = await curl(['--http1.1', '-D', '-', `${base}${path}`]);
    assert.equal(r.status, 200, r.body);
    assert.match(r.body, /^x-seen-version: 2\.0\r$/m);
  }
  assert.equal(up.sessions.length, 1);
  assert.equal((await curl([`${base}/bad`])).status, 503);
  assert.equal(h.counter('cluster.bad.upstream_cx_connect_fail'), 1);
});

test('h2load over HTTP/2 and HTTP/1.1: concurrent requests share few sessions within the peer\'s SETTINGS_MAX_CONCURRENT_STREAMS', async (t) => {
  const up = await h2Upstream(t, (_req, res) => setTimeout(() => res.end('ok'), 5), { maxConcurrentStreams: 8 });
  const h = await plane(t, up.port, ', maxConnections: 2');
  const url = `http://127.0.0.1:${h.ports.web}/`;
  const viaH2 = await h2load(['-n', '400', '-c', '4', '-m', '10', url]);
  assert.equal(viaH2.succeeded, 400, viaH2.output);
  assert.equal(viaH2.status2xx, 400);
  const viaH1 = await h2load(['--h1', '-n', '200', '-c', '20', url]);
  assert.equal(viaH1.succeeded, 200, viaH1.output);
  assert.ok(up.sessions.length <= 2, `${up.sessions.length} sessions`);
  assert.ok(up.maxConcurrent() <= 8, `${up.maxConcurrent()} streams at once`);
  assert.ok(h.counter('cluster.app.upstream_rq_pending_total') > 0, 'requests waited for a stream');
  assert.equal(h.gauge('cluster.app.upstream_rq_pending_active'), 0);
  assert.equal(h.counter('cluster.app.upstream_rq_total'), 600);
});

test('upstream GOAWAY: open streams finish, later requests go on a new session; refused streams are resent', async (t) => {
  let n = 0;
  const up = await h2Upstream(t, (req, res) => {
    n++;
    res.end(`r${n}`);
    // After its first answer each session says goodbye: nothing more goes on it.
    if (req.url === '/bye') req.stream.session?.close();
  });
  const h = await plane(t, up.port);
  const c = await RawClient.open(t, h.ports.web as number);
  for (const path of ['/bye', '/bye', '/bye']) {
    c.get(path);
    assert.equal((await c.response()).status, 200);
  }
  await eventually(() => up.sessions.length === 3 && h.gauge('cluster.app.upstream_cx_active') === 0, 5000, 'sessions closed');

  // A session that refuses its streams (REFUSED_STREAM: never processed) and goes away.
  let refuse = true;
  const refusing = await h2Upstream(t, (req, res) => {
    if (refuse) {
      refuse = false;
      req.stream.close(constants.NGHTTP2_REFUSED_STREAM);
      req.stream.session?.goaway(constants.NGHTTP2_NO_ERROR, 0);
      return;
    }
    res.end('second try');
  });
  const h2 = await plane(t, refusing.port);
  const r = await curl([`http://127.0.0.1:${h2.ports.web}/`]);
  assert.equal(r.status, 200);
  assert.equal(r.body, 'second try');
  assert.equal(refusing.sessions.length, 2);
  assert.equal(h2.counter('cluster.app.upstream_rq_retry'), 0, 'a resend, not a retry');
});

test('a session that breaks mid-request is a 503 (UC), an unreachable endpoint a 503 (UF); 5xx and per-try timeouts are retried by policy', async (t) => {
  const log = join(tempDir(t, 'proxyctl-h2log-'), 'access.log');
  const up = await h2Upstream(t, (req, res) => {
    if (req.url === '/break') req.stream.session?.destroy();
    else res.end('fine');
  });
  const yaml = `
listeners:
  - name: web
    address: 127.0.0.1:1
    protocol: http
    accessLog: [{ path: ${log}, format: "%REQ(:PATH)% %RESPONSE_CODE% %RESPONSE_FLAGS%\\n" }]
    virtualHosts:
      - name: all
        domains: ["*"]
        routes:
          - match: { prefix: /retry }
            cluster: app
            retryPolicy: { retryOn: [5xx], numRetries: 2, backoff: { base: 1ms, max: 2ms } }
          - match: { prefix: /slow }
            cluster: app
            perTryTimeout: 200ms
            retryPolicy: { retryOn: [5xx], numRetries: 1, backoff: { base: 1ms, max: 2ms } }
          - { match: { prefix: /gone }, cluster: gone }
          - { match: { prefix: / }, cluster: app }
clusters:
  - { name: app, endpoints: ["127.0.0.1:${up.port}"], protocol: http2 }
  - { name: gone, endpoints: ["127.0.0.1:1"], protocol: http2 }
`;
  const h = await startPlane(t, parseConfig(yaml, 'h2err.yaml', { cpus: 1 }).config);
  const base = `http://127.0.0.1:${h.ports.web}`;
  assert.equal((await curl([`${base}/break`])).status, 503);
  assert.equal((await curl([`${base}/after`])).body, 'fine');
  assert.equal((await curl([`${base}/gone`])).status, 503);
  assert.equal(h.counter('cluster.gone.upstream_cx_connect_fail'), 1);
  await eventually(() => existsSync(log) && readFileSync(log, 'utf8').split('\n').length >= 4, 5000, 'three log lines');
  assert.deepEqual(readFileSync(log, 'utf8').split('\n').slice(0, 3), ['/break 503 UC', '/after 200 -', '/gone 503 UF']);
  // 5xx from the upstream is retried on an HTTP/2 cluster as on an HTTP/1.1 one.
  let first = true;
  up.server.removeAllListeners('request');
  up.server.on('request', (_req, res) => {
    res.statusCode = first ? 503 : 200;
    first = false;
    res.end('x');
  });
  assert.equal((await curl([`${base}/retry`])).status, 200);
  assert.equal(h.counter('cluster.app.upstream_rq_retry'), 1);
  // A try with no response head within perTryTimeout: its stream is reset and the retry answers.
  let hang = true;
  up.server.removeAllListeners('request');
  up.server.on('request', (_req, res) => {
    if (hang) hang = false;
    else res.end('in time');
  });
  const sessions = up.sessions.length;
  const slow = await curl([`${base}/slow`]);
  assert.equal(slow.body, 'in time');
  assert.equal(h.counter('cluster.app.upstream_rq_per_try_timeout'), 1);
  assert.equal(h.counter('cluster.app.upstream_rq_retry'), 2);
  assert.equal(up.sessions.length, sessions, 'the timed-out try reset its stream, not the session');
});

test('an upgrade (WebSocket) to an http2 cluster is answered 501 by the proxy, and the connection goes on', async (t) => {
  const up = await h2Upstream(t, echo);
  const h = await plane(t, up.port);
  const c = await RawClient.open(t, h.ports.web as number);
  c.send('GET /ws HTTP/1.1\r\nhost: x\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n');
  assert.equal((await c.response()).status, 501);
  assert.equal(up.requests(), 0);
  c.get('/next');
  assert.equal((await c.response()).status, 200);
});

test('HTTP filters in front of an http2 cluster, over both downstream codecs', async (t) => {
  const up = await h2Upstream(t, echo);
  const filters = '    httpFilters:\n      - headers: { response: { set: { x-proxy: proxyctl } } }\n';
  const h = await plane(t, up.port, '', filters);
  for (const flag of ['--http1.1', '--http2-prior-knowledge']) {
    const chunked = flag === '--http1.1' ? ['-H', 'transfer-encoding: chunked'] : [];
    const r = await curl([flag, '-D', '-', ...chunked, '--data-binary', 'through filters', `http://127.0.0.1:${h.ports.web}/f`]);
    assert.equal(r.status, 200, flag);
    assert.match(r.body, /^x-proxy: proxyctl\r$/m);
    assert.ok(r.body.endsWith(' 15 thro'), r.body);
  }
  assert.equal(up.sessions.length, 1);
});

test('an idle session is closed after the upstream idle timeout, as HTTP/1.1 connections are', async (t) => {
  const up = await h2Upstream(t, echo);
  const h = await plane(t, up.port, '', '', { upstreamIdleMs: 300 });
  assert.equal((await curl([`http://127.0.0.1:${h.ports.web}/`])).status, 200);
  await eventually(() => up.sessions[0]?.closed === true && h.gauge('cluster.app.upstream_cx_active') === 0, 5000, 'the idle session closed');
  assert.equal((await curl([`http://127.0.0.1:${h.ports.web}/again`])).status, 200);
  assert.equal(up.sessions.length, 2);
});
