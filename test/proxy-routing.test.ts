/** The router through the data plane, HTTP/1.1 and HTTP/2: virtual hosts, actions, rewrites, normalization. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { parseConfig } from '../src/config/index.js';
import { RawClient, headsOf, startPlane, startRawBackend } from './fixtures/proxy-util.js';
import { curl } from './fixtures/clients.js';

/** A backend that answers `<name> <request line> host=<host>`. */
async function namedBackend(t: TestContext, name: string): Promise<number> {
  const be = await startRawBackend(t, (s) =>
    headsOf(s, (head, sock) => {
      const line = head.split('\r\n')[0] ?? '';
      const host = /\r\nhost: ([^\r]*)/i.exec(head)?.[1] ?? '';
      const body = `${name} ${line} host=${host}`;
      sock.write(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
    }),
  );
  return be.port;
}

async function routingPlane(t: TestContext) {
  const [api, web, blue] = [await namedBackend(t, 'api'), await namedBackend(t, 'web'), await namedBackend(t, 'blue')];
  const yaml = `
listeners:
  - name: edge
    address: 127.0.0.1:1
    protocol: http
    http2: true
    virtualHosts:
      - name: api
        domains: [api.example.com, "*.api.example.com"]
        routes:
          - match: { prefix: /v1/ }
            cluster: api
            prefixRewrite: /internal/
            hostRewrite: api.internal
          - match: { path: /old }
            redirect: { pathRedirect: /new, responseCode: 301 }
      - name: rest
        domains: ["*"]
        routes:
          - match: { prefix: /w, headers: [{ name: x-canary, exact: "1" }] }
            weightedClusters: [{ name: blue, weight: 1 }]
          - match: { prefix: / }
            cluster: web
clusters:
  - { name: api, endpoints: ["127.0.0.1:${api}"] }
  - { name: web, endpoints: ["127.0.0.1:${web}"] }
  - { name: blue, endpoints: ["127.0.0.1:${blue}"] }
`;
  return startPlane(t, parseConfig(yaml, 'routing.yaml', { cpus: 1 }).config);
}

test('HTTP/1.1: virtual hosts by Host, rewrites, a redirect, a header match, a normalized path', async (t) => {
  const h = await routingPlane(t);
  const c = await RawClient.open(t, h.ports.edge as number);
  const ask = async (target: string, host: string, extra = '') => {
    c.send(`GET ${target} HTTP/1.1\r\nhost: ${host}\r\n${extra}\r\n`);
    return c.response();
  };
  assert.equal((await ask('/v1/users?id=7', 'API.example.com')).body.toString(), 'api GET /internal/users?id=7 HTTP/1.1 host=api.internal');
  assert.equal((await ask('/v1/x', 'eu.api.example.com:8080')).body.toString(), 'api GET /internal/x HTTP/1.1 host=api.internal');
  const moved = await ask('/old?q=1', 'api.example.com');
  assert.equal(moved.status, 301);
  assert.equal(moved.headers.location, 'http://api.example.com/new?q=1');
  assert.equal((await ask('/v1/x', 'other.test')).body.toString(), 'web GET /v1/x HTTP/1.1 host=other.test');
  assert.equal((await ask('/where', 'other.test', 'x-canary: 1\r\n')).body.toString(), 'blue GET /where HTTP/1.1 host=other.test');
  // Normalized before matching and forwarded normalized: /a/../v1/ is /v1/ on api.
  assert.equal((await ask('/a/..//v1/%2e/z', 'api.example.com')).body.toString(), 'api GET /internal/z HTTP/1.1 host=api.internal');
  assert.equal((await ask('/%zz', 'other.test')).status, 400);
  assert.equal((await ask('/nothing', 'api.example.com')).status, 404);
});

test('HTTP/2: the same routing by :authority, with curl', async (t) => {
  const h = await routingPlane(t);
  const base = `http://127.0.0.1:${h.ports.edge}`;
  const api = await curl(['--http2-prior-knowledge', '-H', 'host: api.example.com', `${base}/v1/a/./b`]);
  assert.equal(api.httpVersion, '2');
  assert.equal(api.body, 'api GET /internal/a/b HTTP/1.1 host=api.internal');
  const moved = await curl(['--http2-prior-knowledge', '-H', 'host: api.example.com', '-D', '-', '-o', '/dev/null', `${base}/old`]);
  assert.equal(moved.status, 301);
  assert.match(moved.body, /^location: http:\/\/api\.example\.com\/new\r$/m);
  const canary = await curl(['--http2-prior-knowledge', '-H', 'x-canary: 1', `${base}/w`]);
  assert.equal(canary.body, `blue GET /w HTTP/1.1 host=127.0.0.1:${h.ports.edge}`);
});

test('route retries and timeouts through the plane: resets are retried on the other endpoint; a slow upstream gets 504', async (t) => {
  const good = await namedBackend(t, 'good');
  const bad = await startRawBackend(t, (s) => headsOf(s, (_head, sock) => sock.destroy()));
  const slow = await startRawBackend(t, () => {});
  const yaml = `
listeners:
  - name: edge
    address: 127.0.0.1:1
    protocol: http
    virtualHosts:
      - name: all
        domains: ["*"]
        routes:
          - match: { prefix: /slow }
            cluster: slow
            timeout: 300ms
          - match: { prefix: / }
            cluster: pair
            retryPolicy: { retryOn: [reset, connect-failure], numRetries: 3, backoff: { base: 1ms, max: 5ms } }
clusters:
  - { name: pair, endpoints: ["127.0.0.1:${bad.port}", "127.0.0.1:${good}"] }
  - { name: slow, endpoints: ["127.0.0.1:${slow.port}"] }
`;
  const h = await startPlane(t, parseConfig(yaml, 'retry.yaml', { cpus: 1 }).config);
  const c = await RawClient.open(t, h.ports.edge as number);
  for (let i = 0; i < 6; i++) {
    c.get(`/r${i}`);
    const r = await c.response();
    assert.equal(r.status, 200, `request ${i}`);
  }
  assert.ok(h.counter('cluster.pair.upstream_rq_retry') >= 3, 'round robin sent half the tries to the endpoint that resets');
  c.get('/slow');
  assert.equal((await c.response()).status, 504);
  assert.equal(h.counter('cluster.slow.upstream_rq_timeout'), 1);
});
