/**
 * Cluster circuit-breaker limits on real sockets: `maxConnections` makes requests wait for a
 * connection (HTTP/1.1) or a stream (HTTP/2) instead of opening more, `maxPendingRequests`
 * answers 503 once the queue is full, and `maxRequestsPerConnection` retires connections and
 * sessions after that many requests.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import { parseConfig } from '../src/config/index.js';
import { RawClient, headsOf, startPlane, startRawBackend, type PlaneHandle } from './fixtures/proxy-util.js';
import { curl } from './fixtures/clients.js';
import { h2Upstream } from './fixtures/h2-upstream.js';
import { eventually } from './fixtures/supervisor-util.js';
import { tempDir } from './helpers.js';

/** `log`: an access log file with one `<path> <status> <flags>` line per request. */
function plane(t: TestContext, port: number, clusterKeys: string, log = ''): Promise<PlaneHandle> {
  const accessLog = log === '' ? '' : `    accessLog: [{ path: ${log}, format: "%REQ(:PATH)% %RESPONSE_CODE% %RESPONSE_FLAGS%\\n" }]\n`;
  const yaml = `
listeners:
  - name: web
    address: 127.0.0.1:1
    protocol: http
${accessLog}    routes:
      - { match: { prefix: / }, cluster: app }
clusters:
  - { name: app, endpoints: ["127.0.0.1:${port}"]${clusterKeys} }
`;
  return startPlane(t, parseConfig(yaml, 'limits.yaml', { cpus: 1 }).config);
}

/** A keep-alive HTTP/1.1 backend that answers after `ms`, counting requests in flight at once. */
async function slowBackend(t: TestContext, ms: number) {
  let inFlight = 0;
  let most = 0;
  const be = await startRawBackend(t, (s) =>
    headsOf(s, (_head, sock) => {
      most = Math.max(most, ++inFlight);
      setTimeout(() => {
        inFlight--;
        sock.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
      }, ms);
    }),
  );
  return { be, most: () => most };
}

test('HTTP/1.1 with maxConnections 1: concurrent requests wait their turn on one connection, none fails', async (t) => {
  const { be, most } = await slowBackend(t, 10);
  const h = await plane(t, be.port, ', maxConnections: 1');
  const url = `http://127.0.0.1:${h.ports.web}/`;
  const results = await Promise.all(Array.from({ length: 10 }, () => curl([url])));
  assert.deepEqual(results.map((r) => r.status), Array(10).fill(200));
  assert.equal(be.connections(), 1);
  assert.equal(most(), 1);
  assert.ok(h.counter('cluster.app.upstream_rq_pending_total') > 0);
  assert.ok(h.counter('cluster.app.upstream_cx_overflow') > 0);
  assert.equal(h.counter('cluster.app.upstream_rq_pending_overflow'), 0);
  assert.equal(h.gauge('cluster.app.upstream_rq_pending_active'), 0);
});

test('HTTP/1.1: past maxPendingRequests the client gets 503 and upstream_rq_pending_overflow counts it; the waiting ones are served', async (t) => {
  const held: Socket[] = [];
  const be = await startRawBackend(t, (s) => headsOf(s, (_head, sock) => held.push(sock)));
  const log = join(tempDir(t, 'proxyctl-limits-'), 'access.log');
  const h = await plane(t, be.port, ', maxConnections: 1, maxPendingRequests: 1', log);
  const [a, b, c] = [await RawClient.open(t, h.ports.web as number), await RawClient.open(t, h.ports.web as number), await RawClient.open(t, h.ports.web as number)];
  a.get('/a');
  await eventually(() => held.length === 1, 5000, 'the first request upstream');
  b.get('/b');
  await eventually(() => h.gauge('cluster.app.upstream_rq_pending_active') === 1, 5000, 'the second request queued');
  c.get('/c');
  assert.equal((await c.response()).status, 503);
  assert.equal(h.counter('cluster.app.upstream_rq_pending_overflow'), 1);
  // The connection serves the queued request once the first is answered.
  const answer = (): void => void held.shift()?.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
  answer();
  assert.equal((await a.response()).status, 200);
  await eventually(() => held.length === 1, 5000, 'the queued request upstream');
  answer();
  assert.equal((await b.response()).status, 200);
  assert.equal(be.connections(), 1);
  assert.equal(h.gauge('cluster.app.upstream_rq_pending_active'), 0);
  await eventually(() => existsSync(log) && readFileSync(log, 'utf8').split('\n').length >= 4, 5000, 'three log lines');
  assert.deepEqual(readFileSync(log, 'utf8').split('\n').slice(0, 3).sort(), ['/a 200 -', '/b 200 -', '/c 503 UO']);
});

test('HTTP/2: one stream allowed by the peer and maxConnections 1: the next request waits, the one after is refused 503', async (t) => {
  const held: Array<() => void> = [];
  const up = await h2Upstream(t, (_req, res) => held.push(() => res.end('ok')), { maxConcurrentStreams: 1 });
  const h = await plane(t, up.port, ', protocol: http2, maxConnections: 1, maxPendingRequests: 1');
  const [a, b, c] = [await RawClient.open(t, h.ports.web as number), await RawClient.open(t, h.ports.web as number), await RawClient.open(t, h.ports.web as number)];
  a.get('/a');
  await eventually(() => held.length === 1, 5000, 'the first request upstream');
  // The proxy has acknowledged the server's SETTINGS (one stream) by now or soon.
  const session = up.sessions[0];
  assert.ok(session !== undefined);
  if (session.pendingSettingsAck) await once(session, 'localSettings');
  b.get('/b');
  await eventually(() => h.gauge('cluster.app.upstream_rq_pending_active') === 1, 5000, 'the second request queued');
  c.get('/c');
  assert.equal((await c.response()).status, 503);
  assert.equal(h.counter('cluster.app.upstream_rq_pending_overflow'), 1);
  held.shift()?.();
  assert.equal((await a.response()).status, 200);
  await eventually(() => held.length === 1, 5000, 'the queued request upstream');
  held.shift()?.();
  assert.equal((await b.response()).status, 200);
  assert.equal(up.sessions.length, 1);
  assert.equal(up.maxConcurrent(), 1);
});

test('maxRequestsPerConnection retires HTTP/1.1 connections and HTTP/2 sessions after that many requests', async (t) => {
  const be = await startRawBackend(t, (s) => headsOf(s, (_head, sock) => sock.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok')));
  const h1 = await plane(t, be.port, ', maxRequestsPerConnection: 2');
  const c1 = await RawClient.open(t, h1.ports.web as number);
  for (let i = 0; i < 6; i++) {
    c1.get(`/${i}`);
    assert.equal((await c1.response()).status, 200);
  }
  assert.equal(be.connections(), 3);
  assert.equal(h1.counter('cluster.app.upstream_cx_max_requests'), 3);

  const up = await h2Upstream(t, (_req, res) => res.end('ok'));
  const h2 = await plane(t, up.port, ', protocol: http2, maxRequestsPerConnection: 3');
  const c2 = await RawClient.open(t, h2.ports.web as number);
  for (let i = 0; i < 9; i++) {
    c2.get(`/${i}`);
    assert.equal((await c2.response()).status, 200);
  }
  assert.equal(up.sessions.length, 3);
  await eventually(() => h2.counter('cluster.app.upstream_cx_max_requests') === 3, 5000, 'the third session retired');
  await eventually(() => h2.gauge('cluster.app.upstream_cx_active') === 0, 5000, 'retired sessions closed');
});
