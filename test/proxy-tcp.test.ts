import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import type { ListenerConfig } from '../src/config/types.js';
import { cluster, delay, makeConfig, startPlane, startRawBackend } from './fixtures/proxy-util.js';

function tcpListener(name: string, clusterName: string): ListenerConfig {
  return { name, protocol: 'tcp', address: { host: '127.0.0.1', port: 0 }, cluster: clusterName };
}

async function client(port: number): Promise<{ s: Socket; data: () => Buffer; ended: Promise<unknown>; closed: Promise<unknown> }> {
  const s = connect(port, '127.0.0.1');
  s.on('error', () => {});
  const parts: Buffer[] = [];
  s.on('data', (d: Buffer) => parts.push(d));
  const ended = once(s, 'end');
  const closed = once(s, 'close');
  await once(s, 'connect');
  return { s, data: () => Buffer.concat(parts), ended, closed };
}

test('tcp: bytes echo through the proxy; a FIN travels as a half-close', async (t) => {
  // Echo server that answers "bye" only after the client's FIN (so half-close must be passed on).
  const be = await startRawBackend(t, (s) => {
    s.allowHalfOpen = true;
    s.on('data', (d: Buffer) => s.write(d));
    s.on('end', () => s.end('bye'));
  });
  const h = await startPlane(t, makeConfig([tcpListener('raw', 'app')], [cluster('app', [be.port])]));
  const c = await client(h.ports.raw as number);
  const big = Buffer.alloc(1_000_000, 7);
  c.s.write('hello ');
  c.s.write(big);
  c.s.end();
  await c.ended;
  const got = c.data();
  assert.equal(got.length, 6 + big.length + 3);
  assert.equal(got.subarray(0, 6).toString(), 'hello ');
  assert.equal(got.subarray(got.length - 3).toString(), 'bye');
  await c.closed;
  await delay(50);
  assert.equal(h.counter('listener.raw.downstream_cx_total'), 1);
  assert.equal(h.gauge('listener.raw.downstream_cx_active'), 0);
  assert.equal(h.counter('cluster.app.upstream_cx_total'), 1);
  assert.equal(h.gauge('cluster.app.upstream_cx_active'), 0);
});

test('tcp: round robin over endpoints; connect failure closes the downstream', async (t) => {
  const a = await startRawBackend(t, (s) => s.on('data', (d: Buffer) => s.write(d)));
  const dead = await startRawBackend(t, () => {});
  const deadPort = dead.port;
  await new Promise<void>((r) => dead.server.close(() => r()));
  const h = await startPlane(t, makeConfig([tcpListener('raw', 'app')], [cluster('app', [a.port, deadPort])]));
  // Two connections in a row go to the two endpoints, whichever round robin starts at.
  const outcomes: string[] = [];
  for (let i = 0; i < 2; i++) {
    const c = await client(h.ports.raw as number);
    c.s.write('x');
    const echoed = await Promise.race([c.closed.then(() => false), delay(300).then(() => c.data().toString() === 'x')]);
    outcomes.push(echoed ? 'echoed' : 'closed');
    c.s.destroy();
  }
  assert.deepEqual(outcomes.sort(), ['closed', 'echoed']);
  assert.equal(h.counter('cluster.app.upstream_cx_connect_fail'), 1);
});

test('tcp: drain leaves connections up; closeAll closes them and counts forced closes', async (t) => {
  const be = await startRawBackend(t, (s) => s.on('data', (d: Buffer) => s.write(d)));
  const h = await startPlane(t, makeConfig([tcpListener('raw', 'app')], [cluster('app', [be.port])]));
  const a = await client(h.ports.raw as number);
  const b = await client(h.ports.raw as number);
  await delay(30);
  h.plane.startDrain({ strategy: 'immediate', drainTimeMs: 0, deadlineAt: Date.now() + 50 });
  h.plane.stopAccepting();
  await delay(200);
  a.s.write('still');
  await delay(50);
  assert.equal(a.data().toString(), 'still');
  assert.equal(h.plane.connections(), 2);
  assert.equal(h.plane.closeAll('deadline'), 2);
  await Promise.all([a.closed, b.closed]);
  await h.plane.whenIdle();
  assert.equal(h.counter('listener.raw.downstream_cx_drain_forced'), 2);
  await delay(50);
  assert.equal(be.sockets.size, 0);
});
