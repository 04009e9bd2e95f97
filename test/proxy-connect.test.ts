/**
 * CONNECT: tunnelled to the route's cluster on listeners with `allowConnect` (HTTP/1 with
 * curl's proxy tunnel, HTTP/2 with a node:http2 CONNECT stream), refused with 403 elsewhere.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import { connect as h2connect, constants } from 'node:http2';
import type { Duplex } from 'node:stream';
import type { TestContext } from 'node:test';
import { parseConfig } from '../src/config/index.js';
import { isProxyctlError } from '../src/errors.js';
import type { ListenerConfig } from '../src/config/types.js';
import { RawClient, cluster, httpListener, listenOnLoopback, makeConfig, startPlane, type PlaneHandle } from './fixtures/proxy-util.js';
import { curl } from './fixtures/clients.js';

/**
 * An upstream that takes CONNECT (node:http 'connect'): 200, then it answers an HTTP request
 * sent through the tunnel with its name, the target and the request line it saw, and echoes any other bytes
 * as `echo:<bytes>`. A target of `blocked:1` gets 403.
 */
async function connectUpstream(t: TestContext, name = 'up'): Promise<number> {
  const server = createServer((_req, res) => res.end('not a tunnel'));
  server.on('connect', (req: IncomingMessage, socket: Duplex) => {
    socket.on('error', () => {});
    if (req.url === 'blocked:1') {
      socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 7\r\n\r\nblocked');
      return;
    }
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    socket.on('data', (d: Buffer) => {
      const s = d.toString('latin1');
      if (!s.startsWith('GET ')) {
        socket.write(`echo:${s}`);
        return;
      }
      const body = `${name}: tunnel to ${req.url}: ${s.split('\r\n')[0]}`;
      socket.end(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`);
    });
    socket.on('end', () => socket.end());
  });
  return listenOnLoopback(t, server);
}

async function connectPlane(t: TestContext, allowConnect: boolean, idleMs?: number): Promise<{ h: PlaneHandle; port: number }> {
  const up = await connectUpstream(t);
  const l = { ...httpListener('web', [{ match: { prefix: '/' }, cluster: 'app' }], { http2: true }), ...(allowConnect ? { allowConnect: true as const } : {}) } as ListenerConfig;
  const h = await startPlane(t, makeConfig([l], [cluster('app', [up])]), idleMs === undefined ? {} : { idleMs });
  return { h, port: h.ports.web as number };
}

test('HTTP/1 CONNECT with allowConnect: curl tunnels through the proxy to the upstream, which saw the target', { timeout: 20_000 }, async (t) => {
  const { h, port } = await connectPlane(t, true);
  const r = await curl(['-p', '-x', `http://127.0.0.1:${port}`, 'http://example.test:8080/hello']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.status, 200);
  assert.equal(r.body, 'up: tunnel to example.test:8080: GET /hello HTTP/1.1');
  assert.equal(h.counter('http.web.downstream_cx_upgrades_total'), 1);
  assert.equal(h.counter('http.web.downstream_rq_2xx'), 1);
  // The upstream's refusal is relayed, and the connection closes after it.
  const c = await RawClient.open(t, port);
  c.send('CONNECT blocked:1 HTTP/1.1\r\nhost: blocked:1\r\n\r\n');
  const refused = await c.response();
  assert.deepEqual([refused.status, refused.body.toString()], [403, 'blocked']);
  await c.whenClosed();
});

test('CONNECT is routed by its target: the virtual host its domain names picks the cluster', { timeout: 20_000 }, async (t) => {
  const [a, b] = [await connectUpstream(t, 'partner'), await connectUpstream(t, 'other')];
  const yaml = `listeners:
  - name: web
    address: 127.0.0.1:1
    protocol: http
    allowConnect: true
    virtualHosts:
      - { name: partners, domains: ["*.partner.test"], routes: [{ match: { prefix: / }, cluster: a }] }
      - { name: rest, domains: ["*"], routes: [{ match: { prefix: / }, cluster: b }] }
clusters:
  - { name: a, endpoints: [127.0.0.1:${a}] }
  - { name: b, endpoints: [127.0.0.1:${b}] }
`;
  const h = await startPlane(t, parseConfig(yaml, 'connect.yaml', { cpus: 1 }).config);
  const proxy = `http://127.0.0.1:${h.ports.web as number}`;
  assert.equal((await curl(['-p', '-x', proxy, 'http://db.partner.test:5432/x'])).body, 'partner: tunnel to db.partner.test:5432: GET /x HTTP/1.1');
  assert.equal((await curl(['-p', '-x', proxy, 'http://elsewhere.test:80/y'])).body, 'other: tunnel to elsewhere.test:80: GET /y HTTP/1.1');
});

test('HTTP/2 CONNECT with allowConnect: the stream is a tunnel to the upstream both ways', async (t) => {
  const { h, port } = await connectPlane(t, true);
  const session = h2connect(`http://127.0.0.1:${port}`);
  t.after(() => session.destroy());
  const s = session.request({ ':method': 'CONNECT', ':authority': 'example.test:9' });
  const [headers] = (await once(s, 'response')) as [Record<string, unknown>];
  assert.equal(headers[':status'], 200);
  s.write('ping');
  const [echo] = (await once(s, 'data')) as [Buffer];
  assert.equal(echo.toString(), 'echo:ping');
  s.end(); // our END_STREAM is the upstream's FIN; its close ends the stream
  await once(s, 'close');
  assert.equal(h.counter('http.web.downstream_cx_upgrades_total'), 1);
  assert.equal(h.gauge('http.web.downstream_cx_upgrades_active'), 0);
});

test('an HTTP/2 CONNECT tunnel with no byte either way for the idle timeout is reset', async (t) => {
  const { h, port } = await connectPlane(t, true, 300);
  const session = h2connect(`http://127.0.0.1:${port}`);
  t.after(() => session.destroy());
  const s = session.request({ ':method': 'CONNECT', ':authority': 'example.test:9' });
  s.on('error', () => {}); // the reset
  const closed = new Promise<void>((resolve) => s.on('close', resolve));
  const [headers] = (await once(s, 'response')) as [Record<string, unknown>];
  assert.equal(headers[':status'], 200);
  await closed;
  assert.equal(s.rstCode, constants.NGHTTP2_INTERNAL_ERROR);
  assert.equal(h.gauge('http.web.downstream_cx_upgrades_active'), 0);
});

test('HTTP/1 CONNECT to an upstream that cannot be reached: 503, and the connection closes (what follows is tunnel bytes)', { timeout: 10_000 }, async (t) => {
  const l = { ...httpListener('web', [{ match: { prefix: '/' }, cluster: 'app' }]), allowConnect: true as const } as ListenerConfig;
  const h = await startPlane(t, makeConfig([l], [cluster('app', [1])]));
  const c = await RawClient.open(t, h.ports.web as number);
  c.send('CONNECT example.test:443 HTTP/1.1\r\nhost: example.test:443\r\n\r\n\x16\x03\x01');
  assert.equal((await c.response()).status, 503);
  await c.whenClosed();
});

test('without allowConnect, CONNECT gets 403 on HTTP/1 (and the connection closes) and on HTTP/2', { timeout: 10_000 }, async (t) => {
  const { h, port } = await connectPlane(t, false);
  const c = await RawClient.open(t, port);
  c.send('CONNECT example.test:443 HTTP/1.1\r\nhost: example.test:443\r\n\r\n');
  assert.equal((await c.response()).status, 403);
  await c.whenClosed();
  const session = h2connect(`http://127.0.0.1:${port}`);
  t.after(() => session.destroy());
  const s = session.request({ ':method': 'CONNECT', ':authority': 'example.test:443' });
  s.resume();
  const [headers] = (await once(s, 'response')) as [Record<string, unknown>];
  assert.equal(headers[':status'], 403);
  assert.equal(h.counter('http.web.downstream_rq_4xx'), 2);
  assert.equal(h.counter('http.web.downstream_cx_upgrades_total'), 0);
});

test('config: allowConnect is for http listeners without httpFilters', () => {
  const codes = (text: string): string[] => {
    try {
      parseConfig(text, 'test.yaml', { cpus: 1 });
      return [];
    } catch (err: unknown) {
      assert.ok(isProxyctlError(err, 'PROXYCTL_ERR_CONFIG_INVALID'));
      return (err.details.errors as { path: string }[]).map((e) => e.path);
    }
  };
  const http = (extra: string): string => `listeners:\n  - name: web\n    address: 127.0.0.1:8080\n    protocol: http\n${extra}    routes:\n      - match: { prefix: / }\n        directResponse: { status: 204 }\n`;
  assert.deepEqual(codes(http('    allowConnect: true\n')), []);
  assert.equal(parseConfig(http('    allowConnect: true\n'), 'test.yaml', { cpus: 1 }).config.listeners[0]?.protocol, 'http');
  assert.deepEqual(codes(http('    allowConnect: yes\n')), ['listeners[0].allowConnect']);
  assert.deepEqual(codes(http('    allowConnect: true\n    httpFilters:\n      - headers: { request: { remove: [x-a] } }\n')), ['listeners[0].allowConnect']);
  assert.deepEqual(codes('listeners:\n  - name: t\n    address: 127.0.0.1:9000\n    protocol: tcp\n    cluster: c\n    allowConnect: true\nclusters:\n  - name: c\n    endpoints: [127.0.0.1:1]\n'), ['listeners[0].allowConnect']);
});
