/** HTTP filters through the data plane with real clients, HTTP/1.1 and HTTP/2. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { parseConfig } from '../src/config/index.js';
import { RawClient, headsOf, startPlane, startRawBackend } from './fixtures/proxy-util.js';
import { curl } from './fixtures/clients.js';

/** A backend that echoes the x-client header it got and sends `server: backend`. */
async function backend(t: TestContext): Promise<number> {
  const be = await startRawBackend(t, (s) =>
    headsOf(s, (head, sock) => {
      const client = /\r\nx-client: ([^\r]*)/i.exec(head)?.[1] ?? '-';
      const body = `client=${client}`;
      sock.write(`HTTP/1.1 200 OK\r\nserver: backend\r\ntransfer-encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`);
    }),
  );
  return be.port;
}

async function filteredPlane(t: TestContext) {
  const port = await backend(t);
  const yaml = `
listeners:
  - name: web
    address: 127.0.0.1:1
    protocol: http
    http2: true
    httpFilters:
      - headers:
          request: { set: { x-client: "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%" } }
          response: { remove: [server], set: { x-proxy: proxyctl } }
      - cors: { allowOrigins: [{ exact: "https://app.test" }], allowMethods: [GET, POST] }
      - localRateLimit: { maxTokens: 5, tokensPerFill: 1, fillInterval: 1h }
    routes:
      - { match: { prefix: /direct }, directResponse: { status: 200, body: "direct\\n" } }
      - { match: { prefix: / }, cluster: app }
  - name: faulty
    address: 127.0.0.1:2
    protocol: http
    httpFilters:
      - fault: { abort: { httpStatus: 503, percentage: 100 } }
    routes:
      - { match: { prefix: / }, cluster: app }
clusters:
  - { name: app, endpoints: ["127.0.0.1:${port}"] }
`;
  return startPlane(t, parseConfig(yaml, 'filters.yaml', { cpus: 1 }).config);
}

test('HTTP/1.1 through filters: headers both ways, CORS, a direct response, then the rate limit answers 429', async (t) => {
  const h = await filteredPlane(t);
  const c = await RawClient.open(t, h.ports.web as number);
  c.get('/a', 'origin: https://app.test\r\n');
  const r = await c.response();
  assert.equal(r.status, 200);
  assert.equal(r.body.toString(), 'client=127.0.0.1');
  assert.equal(r.headers.server, undefined);
  assert.equal(r.headers['x-proxy'], 'proxyctl');
  assert.equal(r.headers['access-control-allow-origin'], 'https://app.test');
  assert.equal(r.headers['transfer-encoding'], 'chunked'); // re-framed: the filters saw the payload
  c.send('OPTIONS /a HTTP/1.1\r\nhost: t\r\norigin: https://app.test\r\naccess-control-request-method: POST\r\n\r\n');
  const pre = await c.response();
  assert.equal(pre.status, 204);
  assert.match(pre.headers['access-control-allow-methods'] ?? '', /POST/);
  c.get('/direct');
  const d = await c.response();
  assert.equal(d.body.toString(), 'direct\n');
  assert.equal(d.headers['x-proxy'], 'proxyctl');
  c.send('POST /a HTTP/1.1\r\nhost: t\r\ncontent-length: 5\r\n\r\nhello');
  assert.equal((await c.response()).status, 200);
  const rest: number[] = [];
  for (let i = 0; i < 3; i++) {
    c.get('/a');
    const x = await c.response();
    rest.push(x.status);
    if (x.status === 429) assert.ok(Number(x.headers['retry-after']) > 0);
  }
  assert.deepEqual(rest, [200, 200, 429]);
  assert.equal(h.counter('http.web.local_rate_limit.rate_limited'), 1);
  assert.equal(h.counter('http.web.downstream_rq_4xx'), 1);
});

test('HTTP/2 through filters, and a fault filter that aborts every request with 503', async (t) => {
  const h = await filteredPlane(t);
  const r = await curl(['--http2-prior-knowledge', '-D', '-', `http://127.0.0.1:${h.ports.web}/h2`]);
  assert.equal(r.httpVersion, '2');
  assert.equal(r.status, 200);
  assert.match(r.body, /^x-proxy: proxyctl\r$/m);
  assert.doesNotMatch(r.body, /^server:/m);
  assert.ok(r.body.endsWith('client=127.0.0.1'));
  const posted = await curl(['--http2-prior-knowledge', '--data-binary', 'abc', `http://127.0.0.1:${h.ports.web}/h2`]);
  assert.equal(posted.status, 200);
  const aborted = await curl([`http://127.0.0.1:${h.ports.faulty}/x`]);
  assert.equal(aborted.status, 503);
  assert.equal(h.counter('http.faulty.fault.aborts_injected'), 1);
});
