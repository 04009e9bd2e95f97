/** HTTP access log lines from the HTTP/1.1 and HTTP/2 codecs, raw and through filters. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { parseConfig } from '../src/config/index.js';
import { threadAccessLogFiles } from '../src/proxy/access-log/index.js';
import { tempDir } from './helpers.js';
import { linesOf } from './fixtures/access-log-util.js';
import { RawClient, headsOf, startPlane, startRawBackend } from './fixtures/proxy-util.js';
import { curl } from './fixtures/clients.js';

const JSON_FORMAT = '{ method: "%REQ(:METHOD)%", path: "%REQ(:PATH)%", proto: "%PROTOCOL%", status: "%RESPONSE_CODE%", rx: "%BYTES_RECEIVED%", tx: "%BYTES_SENT%", up: "%UPSTREAM_HOST%", cluster: "%UPSTREAM_CLUSTER%", route: "%ROUTE_NAME%", rid: "%REQ(X-REQUEST-ID)%", ua: "%REQ(USER-AGENT)%", server: "%RESP(SERVER)%", flags: "%RESPONSE_FLAGS%" }';

async function loggedPlane(t: TestContext, filters: boolean) {
  const be = await startRawBackend(t, (s) => headsOf(s, (_h, sock) => sock.write('HTTP/1.1 200 OK\r\nserver: be\r\ncontent-length: 5\r\n\r\nhello')));
  const path = join(tempDir(t), 'access.log');
  const yaml = `
listeners:
  - name: web
    address: 127.0.0.1:1
    protocol: http
    http2: true
    accessLog: [{ path: ${path}, json: ${JSON_FORMAT} }]
${filters ? '    httpFilters: [{ headers: { request: { set: { user-agent: filtered } } } }]\n' : ''}    virtualHosts:
      - name: all
        domains: ["*"]
        routes:
          - { name: direct, match: { prefix: /direct }, directResponse: { status: 201, body: "abc" } }
          - { name: app, match: { prefix: / }, cluster: app }
clusters:
  - { name: app, endpoints: ["127.0.0.1:${be.port}"] }
`;
  const h = await startPlane(t, parseConfig(yaml, 'log.yaml', { cpus: 1 }).config);
  t.after(() => threadAccessLogFiles.closeAll());
  return { h, path, upstream: `127.0.0.1:${be.port}` };
}

async function lines(path: string): Promise<Record<string, string>[]> {
  await threadAccessLogFiles.flushAll();
  return linesOf(path).map((l) => JSON.parse(l) as Record<string, string>);
}

for (const filters of [false, true]) {
  test(`one line per request over HTTP/1.1 and HTTP/2${filters ? ', through filters' : ''}: status, bytes, upstream, route, request id`, async (t) => {
    const { h, path, upstream } = await loggedPlane(t, filters);
    const c = await RawClient.open(t, h.ports.web as number);
    c.send('POST /up HTTP/1.1\r\nhost: t\r\nuser-agent: raw\r\nx-request-id: id-1\r\ncontent-length: 3\r\n\r\nxyz');
    assert.equal((await c.response()).status, 200);
    c.get('/direct');
    assert.equal((await c.response()).status, 201);
    const r = await curl(['--http2-prior-knowledge', '-A', 'curl-h2', `http://127.0.0.1:${h.ports.web}/two`]);
    assert.equal(r.status, 200);
    const got = await lines(path);
    assert.equal(got.length, 3);
    const [post, direct, two] = got as [Record<string, string>, Record<string, string>, Record<string, string>];
    assert.deepEqual(
      { ...post },
      { method: 'POST', path: '/up', proto: 'HTTP/1.1', status: '200', rx: '3', tx: '5', up: upstream, cluster: 'app', route: 'app', rid: 'id-1', ua: filters ? 'filtered' : 'raw', server: 'be', flags: '-' },
    );
    assert.deepEqual([direct.status, direct.tx, direct.route, direct.up], ['201', '3', 'direct', '-']);
    assert.deepEqual([two.proto, two.status, two.path, two.ua], ['HTTP/2', '200', '/two', filters ? 'filtered' : 'curl-h2']);
    assert.match(two.rid ?? '', /^[0-9a-f-]{36}$/, 'the id made for the upstream is the one logged');
  });
}
