/**
 * TLS termination in one data plane: a connection still in its handshake is a connection
 * (drain deadline, hurry, closeAll and the handshake timeout all close it), and one that
 * finished its handshake is handed to the HTTP connection manager with what the client sent.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { parseConfig } from '../src/config/index.js';
import { tempDir } from './helpers.js';
import { closed, startPlane, type PlaneHandle } from './fixtures/proxy-util.js';
import { eventually } from './fixtures/supervisor-util.js';
import { makeCa, makeLeaf, read, tlsExchange } from './fixtures/tls-util.js';

async function tlsPlane(t: TestContext, tlsExtra = ''): Promise<{ h: PlaneHandle; ca: string; dir: string }> {
  const dir = tempDir(t, 'proxyctl-tls-plane-');
  makeCa(dir, 'ca');
  makeLeaf(dir, 'a', 'ca', ['a.test']);
  const text = `listeners:
  - name: web
    address: 127.0.0.1:8443
    protocol: http
    tls: { certificates: [{ certFile: a.pem, keyFile: a.key }]${tlsExtra} }
    routes:
      - match: { prefix: / }
        directResponse: { status: 200, body: ok }
`;
  const { config } = parseConfig(text, join(dir, 'proxyctl.yaml'), { cpus: 1 });
  return { h: await startPlane(t, config), ca: read(dir, 'ca.pem'), dir };
}

/** A TCP connection that never starts its handshake. */
async function silent(t: TestContext, port: number): Promise<Socket> {
  const s = connect(port, '127.0.0.1');
  s.on('error', () => {});
  t.after(() => s.destroy());
  await once(s, 'connect');
  return s;
}

test('a connection still in its handshake counts, and the drain deadline closes it', async (t) => {
  const { h } = await tlsPlane(t);
  const s = await silent(t, h.ports.web as number);
  await eventually(() => h.plane.connections() === 1, 5_000, 'the handshake to count as a connection');
  assert.equal(h.gauge('listener.web.downstream_cx_active'), 1);
  h.plane.startDrain({ strategy: 'gradual', drainTimeMs: 0, deadlineAt: Date.now() + 150 });
  await closed(s);
  await eventually(() => h.plane.connections() === 0, 5_000, 'no connection left');
  assert.equal(h.gauge('listener.web.downstream_cx_active'), 0);
});

test('hurry and closeAll close connections still in their handshake', async (t) => {
  const { h } = await tlsPlane(t);
  const a = await silent(t, h.ports.web as number);
  await eventually(() => h.plane.connections() === 1, 5_000, 'one handshake');
  h.plane.hurry(1_000);
  await closed(a);
  const { h: h2 } = await tlsPlane(t);
  const b = await silent(t, h2.ports.web as number);
  await eventually(() => h2.plane.connections() === 1, 5_000, 'one handshake');
  assert.equal(h2.plane.closeAll('test'), 1);
  await closed(b);
  assert.equal(h2.counter('listener.web.downstream_cx_drain_forced'), 1);
  await eventually(() => h2.plane.connections() === 0, 5_000, 'no connection left');
});

test('a handshake not finished within handshakeTimeout is closed and counted', async (t) => {
  const { h } = await tlsPlane(t, ', handshakeTimeout: 300ms');
  const s = await silent(t, h.ports.web as number);
  await closed(s);
  await eventually(() => h.counter('listener.web.ssl.connection_error') === 1, 5_000, 'connection_error');
  await eventually(() => h.plane.connections() === 0, 5_000, 'no connection left');
  assert.equal(h.counter('listener.web.ssl.handshake'), 0);
});

test('a finished handshake reaches the HTTP connection manager; during a drain its response closes the connection', async (t) => {
  const { h, ca } = await tlsPlane(t);
  const port = h.ports.web as number;
  const ok = await tlsExchange(port, { servername: 'a.test', ca }, 'GET / HTTP/1.1\r\nhost: a.test\r\n\r\n');
  assert.match(ok, /^HTTP\/1\.1 200 /);
  h.plane.startDrain({ strategy: 'immediate', drainTimeMs: 0, deadlineAt: Date.now() + 10_000 });
  const draining = await tlsExchange(port, { servername: 'a.test', ca }, 'GET / HTTP/1.1\r\nhost: a.test\r\n\r\n');
  assert.match(draining, /connection: close\r\n/i);
  assert.equal(h.counter('listener.web.ssl.handshake'), 2);
});

test('clientCertificate required: false lets a client without a certificate in, and refuses one whose certificate does not verify', async (t) => {
  const { h, ca, dir } = await tlsPlane(t, ', clientCertificate: { caFile: ca.pem, required: false }');
  makeCa(dir, 'ca2');
  makeLeaf(dir, 'client', 'ca', ['client.test'], true);
  makeLeaf(dir, 'stranger', 'ca2', ['stranger.test'], true);
  const port = h.ports.web as number;
  const req = 'GET / HTTP/1.1\r\nhost: a.test\r\nconnection: close\r\n\r\n';
  assert.match(await tlsExchange(port, { servername: 'a.test', ca }, req), /^HTTP\/1\.1 200 /);
  assert.match(await tlsExchange(port, { servername: 'a.test', ca, cert: read(dir, 'client.pem'), key: read(dir, 'client.key') }, req), /^HTTP\/1\.1 200 /);
  const stranger = await tlsExchange(port, { servername: 'a.test', ca, cert: read(dir, 'stranger.pem'), key: read(dir, 'stranger.key') }, req).catch(() => '');
  assert.equal(stranger, '');
  await eventually(() => h.counter('listener.web.ssl.fail_verify_error') === 1, 5_000, 'fail_verify_error');
  assert.equal(h.counter('listener.web.ssl.handshake'), 2);
  assert.equal(h.counter('listener.web.ssl.no_certificate'), 1);
});
