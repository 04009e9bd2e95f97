/**
 * The PROXY protocol listener filter in one data plane: the header's source becomes the client
 * address for everything downstream (x-forwarded-for, header variables, access logs), the
 * bytes after it reach the next stage, and a connection without a good header in time is
 * closed and counted. A connection waiting for its header is a connection (closeAll, drain).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { connect as h2connect } from 'node:http2';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { parseConfig } from '../src/config/index.js';
import { tempDir } from './helpers.js';
import { curl } from './fixtures/clients.js';
import { RawClient, closed, headsOf, startPlane, startRawBackend, type PlaneHandle } from './fixtures/proxy-util.js';
import { tlv, v2Header } from './fixtures/proxy-protocol-util.js';
import { eventually } from './fixtures/supervisor-util.js';
import { makeCa, makeLeaf, read } from './fixtures/tls-util.js';

interface Setup {
  h: PlaneHandle;
  dir: string;
  /** Request heads the backend received, lowercased header names. */
  heads: Array<Record<string, string>>;
}

/** A plane whose `web` listener has `listenerFilters: <filters>` and routes to a backend that records heads. */
async function plane(t: TestContext, filters: string, extra = ''): Promise<Setup> {
  const dir = tempDir(t, 'proxyctl-pp-');
  const heads: Array<Record<string, string>> = [];
  const be = await startRawBackend(t, (s) =>
    headsOf(s, (head, sock) => {
      const fields: Record<string, string> = {};
      for (const line of head.split('\r\n').slice(1)) {
        const c = line.indexOf(':');
        if (c > 0) fields[line.slice(0, c).toLowerCase()] = line.slice(c + 1).trim();
      }
      heads.push(fields);
      sock.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
    }),
  );
  const text = `listeners:
  - name: web
    address: 127.0.0.1:8080
    protocol: http
    listenerFilters: ${filters}
    httpFilters:
      - headers: { request: { set: { x-client: "%DOWNSTREAM_REMOTE_ADDRESS%", x-local: "%DOWNSTREAM_LOCAL_ADDRESS%" } } }
${extra}    routes:
      - match: { prefix: / }
        cluster: app
clusters:
  - name: app
    endpoints: [127.0.0.1:${be.port}]
`;
  const { config } = parseConfig(text, join(dir, 'proxyctl.yaml'), { cpus: 1 });
  return { h: await startPlane(t, config), dir, heads };
}

/** A raw TCP connection to `port` that has sent `first`. */
async function opened(t: TestContext, port: number, first: Buffer | string): Promise<Socket> {
  const s = connect(port, '127.0.0.1');
  s.on('error', () => {});
  t.after(() => s.destroy());
  await once(s, 'connect');
  if (first.length > 0) s.write(first);
  return s;
}

const GET = 'GET /x HTTP/1.1\r\nhost: test\r\n\r\n';

test('curl --haproxy-protocol (v1): the request goes through, counted v1', async (t) => {
  const { h, heads } = await plane(t, '[{ proxyProtocol: {} }]');
  const r = await curl(['--haproxy-protocol', `http://127.0.0.1:${h.ports.web}/curl`]);
  assert.equal(r.status, 200, r.stderr);
  assert.equal(heads[0]?.['x-forwarded-for'], '127.0.0.1');
  assert.equal(h.counter('listener.web.proxy_proto.v1'), 1);
});

test('v1: the header source is the client for x-forwarded-for and header variables; the request in the same write is read', async (t) => {
  const { h, heads } = await plane(t, '[{ proxyProtocol: {} }]');
  const c = await RawClient.open(t, h.ports.web as number);
  c.send(`PROXY TCP4 192.0.2.10 198.51.100.1 40000 443\r\n${GET}`);
  assert.equal((await c.response()).status, 200);
  c.get('/again', 'x-forwarded-for: 10.0.0.1\r\n');
  assert.equal((await c.response()).status, 200);
  assert.equal(heads[0]?.['x-forwarded-for'], '192.0.2.10');
  assert.equal(heads[0]?.['x-client'], '192.0.2.10:40000');
  assert.equal(heads[0]?.['x-local'], '198.51.100.1:443');
  assert.equal(heads[1]?.['x-forwarded-for'], '10.0.0.1, 192.0.2.10', 'every request on the connection');
  assert.equal(h.counter('listener.web.proxy_proto.v1'), 1);
});

test('v2 over IPv6 with TLVs, sent in the same write as the request; LOCAL keeps the real peer', async (t) => {
  const { h, heads } = await plane(t, '[{ proxyProtocol: { allowV1: false } }]');
  const c = await RawClient.open(t, h.ports.web as number);
  c.send(Buffer.concat([v2Header({ src: '2001:db8::7', dst: '2001:db8::1', sport: 5555, dport: 8443, tlvs: tlv(0x01, 'h2') }), Buffer.from(GET)]));
  assert.equal((await c.response()).status, 200);
  assert.equal(heads[0]?.['x-forwarded-for'], '2001:db8::7');
  assert.equal(heads[0]?.['x-client'], '[2001:db8::7]:5555');

  const local = await RawClient.open(t, h.ports.web as number);
  local.send(v2Header({ command: 0 }));
  local.get('/local');
  assert.equal((await local.response()).status, 200);
  assert.equal(heads[1]?.['x-forwarded-for'], '127.0.0.1');
  assert.equal(h.counter('listener.web.proxy_proto.v2'), 2);
});

test('optional: a client without a header goes through unchanged, counted not_found', async (t) => {
  const { h, heads } = await plane(t, '[{ proxyProtocol: { required: false } }]');
  const c = await RawClient.open(t, h.ports.web as number);
  c.get('/plain');
  assert.equal((await c.response()).status, 200);
  const p = await RawClient.open(t, h.ports.web as number);
  p.send(`PROXY TCP4 192.0.2.11 198.51.100.1 1 2\r\n${GET}`);
  assert.equal((await p.response()).status, 200);
  assert.equal(heads[0]?.['x-forwarded-for'], '127.0.0.1');
  assert.equal(heads[1]?.['x-forwarded-for'], '192.0.2.11');
  assert.equal(h.counter('listener.web.proxy_proto.not_found'), 1);
  assert.equal(h.counter('listener.web.proxy_proto.v1'), 1);
});

test('required, malformed, or of a disallowed version: closed and counted as errors', async (t) => {
  const { h, heads } = await plane(t, '[{ proxyProtocol: { allowV2: false } }]');
  const port = h.ports.web as number;
  for (const first of [GET, 'PROXY TCP4 192.0.2.10 198.51.100.1 40000\r\n', `PROXY UNKNOWN ${'x'.repeat(120)}`, v2Header()]) {
    await closed(await opened(t, port, first));
  }
  assert.equal(h.counter('listener.web.proxy_proto.error'), 4);
  assert.equal(heads.length, 0);
  await eventually(() => h.plane.connections() === 0, 5_000, 'the refused connections to leave');
  assert.equal(h.gauge('listener.web.downstream_cx_active'), 0);
});

test('a header not complete within the timeout closes the connection, counted timeout', async (t) => {
  const { h } = await plane(t, '[{ proxyProtocol: { timeout: 200ms } }]');
  const partial = await opened(t, h.ports.web as number, 'PROXY TCP4 192.0.2.10');
  const silent = await opened(t, h.ports.web as number, '');
  await eventually(() => h.plane.connections() === 2, 5_000, 'the waiting connections to count');
  await closed(partial);
  await closed(silent);
  assert.equal(h.counter('listener.web.proxy_proto.timeout'), 2);
  await eventually(() => h.plane.connections() === 0, 5_000, 'the connections to leave');
});

test('closeAll and the drain deadline close a connection waiting for its header', async (t) => {
  const { h } = await plane(t, '[{ proxyProtocol: {} }]');
  const a = await opened(t, h.ports.web as number, 'PROXY ');
  await eventually(() => h.plane.connections() === 1, 5_000, 'the waiting connection to count');
  assert.equal(h.plane.closeAll('test'), 1);
  await closed(a);
  const b = await opened(t, h.ports.web as number, 'PROXY ');
  await eventually(() => h.plane.connections() === 1, 5_000, 'the second waiting connection to count');
  h.plane.startDrain({ strategy: 'gradual', drainTimeMs: 0, deadlineAt: Date.now() + 100 });
  await closed(b);
  await eventually(() => h.plane.connections() === 0, 5_000, 'the connections to leave');
});

test('h2c with prior knowledge behind a v2 header: the session sees the header source', async (t) => {
  const { h, heads } = await plane(t, '[{ proxyProtocol: {} }]', '    http2: true\n');
  const s = await opened(t, h.ports.web as number, v2Header({ src: '203.0.113.9', sport: 7 }));
  const session = h2connect(`http://127.0.0.1:${h.ports.web}`, { createConnection: () => s });
  t.after(() => session.destroy());
  const req = session.request({ ':path': '/h2' });
  const [headers] = (await once(req, 'response')) as [Record<string, unknown>];
  req.resume();
  await once(req, 'end');
  assert.equal(headers[':status'], 200);
  assert.equal(heads[0]?.['x-forwarded-for'], '203.0.113.9');
  assert.equal(heads[0]?.['x-client'], '203.0.113.9:7');
});

test('TLS listener behind a v2 header: the handshake follows the header, the request sees its source', async (t) => {
  const certs = tempDir(t, 'proxyctl-pp-tls-');
  makeCa(certs, 'ca');
  makeLeaf(certs, 'a', 'ca', ['a.test']);
  const tls = `    tls: { certificates: [{ certFile: ${join(certs, 'a.pem')}, keyFile: ${join(certs, 'a.key')} }] }\n`;
  const { h, heads } = await plane(t, '[{ proxyProtocol: {} }]', tls);
  // A relay that sends the header and the ClientHello in one write: the TLS stage must get
  // the bytes the listener filter read past the header.
  const header = v2Header({ src: '198.51.100.77', sport: 4242 });
  const relay = createServer((c) => {
    const up = connect(h.ports.web as number, '127.0.0.1');
    for (const x of [c, up]) x.on('error', () => {});
    c.once('data', (hello: Buffer) => {
      up.write(Buffer.concat([header, hello]));
      c.pipe(up);
      up.pipe(c);
    });
    t.after(() => up.destroy());
  });
  relay.listen(0, '127.0.0.1');
  await once(relay, 'listening');
  t.after(() => relay.close());
  const s = tlsConnect({ host: '127.0.0.1', port: (relay.address() as { port: number }).port, servername: 'a.test', ca: read(certs, 'ca.pem'), ALPNProtocols: ['http/1.1'] });
  s.on('error', () => {});
  await once(s, 'secureConnect');
  s.write(GET);
  let got = '';
  s.on('data', (d: Buffer) => (got += d.toString('latin1')));
  await eventually(() => got.endsWith('ok'), 5_000, 'the response over TLS');
  assert.match(got, /^HTTP\/1\.1 200 /);
  assert.equal(heads[0]?.['x-forwarded-for'], '198.51.100.77');
  assert.equal(heads[0]?.['x-forwarded-proto'], 'https');
  assert.equal(heads[0]?.['x-client'], '198.51.100.77:4242');
  s.destroy();
});

test('tcp listener: the header is stripped, the payload after it is proxied, the access log has the header source', async (t) => {
  const dir = tempDir(t, 'proxyctl-pp-tcp-');
  const be = await startRawBackend(t, (s) => s.pipe(s));
  const text = `listeners:
  - name: l4
    address: 127.0.0.1:9000
    protocol: tcp
    cluster: echo
    listenerFilters: [{ proxyProtocol: {} }]
    accessLog: [{ path: tcp.log, format: "%DOWNSTREAM_REMOTE_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS%" }]
clusters:
  - name: echo
    endpoints: [127.0.0.1:${be.port}]
`;
  const { config } = parseConfig(text, join(dir, 'proxyctl.yaml'), { cpus: 1 });
  const h = await startPlane(t, config);
  const s = await opened(t, h.ports.l4 as number, 'PROXY TCP4 192.0.2.10 198.51.100.1 40000 443\r\nhello');
  let got = '';
  s.on('data', (d: Buffer) => (got += d.toString('latin1')));
  await eventually(() => got === 'hello', 5_000, 'the echo');
  s.write(' again');
  await eventually(() => got === 'hello again', 5_000, 'the second echo');
  s.end();
  await closed(s);
  const log = join(dir, 'tcp.log');
  await eventually(() => {
    try {
      return readFileSync(log, 'utf8').includes('\n');
    } catch {
      return false;
    }
  }, 5_000, 'the access log line');
  assert.equal(readFileSync(log, 'utf8'), '192.0.2.10:40000 198.51.100.1:443\n');
  assert.equal(h.counter('listener.l4.proxy_proto.v1'), 1);
});
