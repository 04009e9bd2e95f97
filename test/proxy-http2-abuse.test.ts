/**
 * HTTP/2 protocol abuse, sent as raw frames: each kind ends the session with GOAWAY (or a
 * closed socket), raises its own counter and the total, and the listener goes on serving.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { connect, type Socket } from 'node:net';
import { constants } from 'node:http2';
import type { TestContext } from 'node:test';
import { cluster, httpListener, listenOnLoopback, makeConfig, startPlane, type PlaneHandle } from './fixtures/proxy-util.js';
import { curl } from './fixtures/clients.js';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const T_HEADERS = 0x1;
const T_SETTINGS = 0x4;
const T_PING = 0x6;
const T_GOAWAY = 0x7;
const T_CONTINUATION = 0x9;

/** One frame: the 9-byte header (length, type, flags, stream id) and its payload. */
function frame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const h = Buffer.alloc(9);
  h.writeUIntBE(payload.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(streamId, 5);
  return Buffer.concat([h, payload]);
}

/** An HPACK literal header field without indexing, new name (RFC 7541 6.2.2), short strings only. */
function literal(name: string, value: string): Buffer {
  return Buffer.concat([Buffer.from([0x00, name.length]), Buffer.from(name, 'latin1'), Buffer.from([value.length]), Buffer.from(value, 'latin1')]);
}

interface RawH2 {
  socket: Socket;
  /** The GOAWAY error code the proxy sent, or null if the socket closed without one. */
  end: Promise<number | null>;
  /** PING ACKs read so far. */
  pingAcks(): number;
}

/** A raw client: preface and an empty SETTINGS sent, every frame the proxy sends parsed. */
async function rawH2(t: TestContext, port: number): Promise<RawH2> {
  const socket = connect(port, '127.0.0.1');
  t.after(() => socket.destroy());
  socket.on('error', () => {});
  await once(socket, 'connect');
  let acks = 0;
  let buf = Buffer.alloc(0);
  const end = new Promise<number | null>((resolve) => {
    socket.on('close', () => resolve(null));
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 9) {
        const len = buf.readUIntBE(0, 3);
        if (buf.length < 9 + len) break;
        if (buf[3] === T_GOAWAY) resolve(buf.readUInt32BE(9 + 4));
        if (buf[3] === T_PING && ((buf[4] as number) & 0x1) !== 0) acks++;
        buf = buf.subarray(9 + len);
      }
    });
  });
  socket.write(Buffer.concat([PREFACE, frame(T_SETTINGS, 0, 0)]));
  return { socket, end, pingAcks: () => acks };
}

async function abusePlane(t: TestContext): Promise<{ h: PlaneHandle; port: number; url: string }> {
  const server = createServer((req, res) => res.end(`ok ${req.url}`));
  const port = await listenOnLoopback(t, server);
  const h = await startPlane(t, makeConfig([httpListener('web', [{ match: { prefix: '/' }, cluster: 'app' }], { http2: true })], [cluster('app', [port])]));
  const web = h.ports.web as number;
  return { h, port: web, url: `http://127.0.0.1:${web}` };
}

/** The abuse counters of listener `web`, by kind. */
function abuse(h: PlaneHandle): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of ['goaway', 'rapid_reset', 'continuation_flood', 'ping_flood', 'settings_flood']) out[k] = h.counter(`http.web.http2.abuse_${k}`);
  return out;
}

async function stillServes(url: string): Promise<void> {
  const ok = await curl(['--http2-prior-knowledge', `${url}/after`]);
  assert.deepEqual([ok.code, ok.httpVersion, ok.status, ok.body], [0, '2', 200, 'ok /after']);
}

test('CONTINUATION flood: a header block that never ends is cut off with GOAWAY and counted', async (t) => {
  const { h, port, url } = await abusePlane(t);
  const c = await rawH2(t, port);
  const head = Buffer.concat([literal(':method', 'GET'), literal(':scheme', 'http'), literal(':path', '/'), literal(':authority', 'x')]);
  const flood = [frame(T_HEADERS, 0, 1, head)]; // no END_HEADERS
  for (let i = 0; i < 200; i++) flood.push(frame(T_CONTINUATION, 0, 1, literal(`x-f${i}`, 'v')));
  c.socket.write(Buffer.concat(flood));
  const code = await c.end;
  assert.ok(code === null || code !== constants.NGHTTP2_NO_ERROR, `GOAWAY ${code}`);
  assert.deepEqual(abuse(h), { goaway: 1, rapid_reset: 0, continuation_flood: 1, ping_flood: 0, settings_flood: 0 });
  await stillServes(url);
});

test('PING flood: a client that sends PINGs faster than the limit (and reads the ACKs) gets GOAWAY ENHANCE_YOUR_CALM', async (t) => {
  const { h, port, url } = await abusePlane(t);
  const c = await rawH2(t, port);
  const pings: Buffer[] = [];
  for (let i = 0; i < 300; i++) pings.push(frame(T_PING, 0, 0, Buffer.alloc(8, i & 0xff)));
  c.socket.write(Buffer.concat(pings));
  assert.equal(await c.end, constants.NGHTTP2_ENHANCE_YOUR_CALM);
  assert.ok(c.pingAcks() < 300, `${c.pingAcks()} PINGs were answered`);
  assert.deepEqual(abuse(h), { goaway: 1, rapid_reset: 0, continuation_flood: 0, ping_flood: 1, settings_flood: 0 });
  await stillServes(url);
});

test('SETTINGS flood: a client that keeps sending SETTINGS gets GOAWAY ENHANCE_YOUR_CALM', async (t) => {
  const { h, port, url } = await abusePlane(t);
  const c = await rawH2(t, port);
  const maxStreams = Buffer.from([0x00, 0x03, 0x00, 0x00, 0x00, 0x64]); // SETTINGS_MAX_CONCURRENT_STREAMS = 100
  c.socket.write(Buffer.concat(Array.from({ length: 300 }, () => frame(T_SETTINGS, 0, 0, maxStreams))));
  assert.equal(await c.end, constants.NGHTTP2_ENHANCE_YOUR_CALM);
  assert.deepEqual(abuse(h), { goaway: 1, rapid_reset: 0, continuation_flood: 0, ping_flood: 0, settings_flood: 1 });
  await stillServes(url);
});
