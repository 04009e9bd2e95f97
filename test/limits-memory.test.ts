/**
 * Memory stays bounded (backpressure both ways), measured as the epoch's VmRSS: a 1 GiB upload
 * to an upstream that stops reading for a while, a 1 GiB download by a client that stops
 * reading for a while (both at once), then 10,000 idle keep-alive connections that each made
 * one request. The bounds are the ones README.md ("Limits and memory") documents.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { freePort, startProxyctl } from './fixtures/supervisor-util.js';

const GIB = 1024 ** 3;
const CHUNK = 64 * 1024;
/** Where a transfer stops reading for PAUSE_MS, once. */
const PAUSE_AT = 128 * 1024 ** 2;
const PAUSE_MS = 1_000;
const IDLE_CONNECTIONS = 10_000;
const BATCH = 1_000;
/** README.md: at most 64 MiB over the idle epoch for the two 1 GiB transfers together. */
const TRANSFER_BOUND = 64 * 1024 ** 2;
/** README.md: at most 16 KiB of RSS per idle keep-alive HTTP/1.1 connection. */
const PER_IDLE_CONNECTION_BOUND = 16 * 1024;

/** 64 KiB of a pattern, twice over, so the expected bytes at any offset are one subarray. */
const PATTERN = Buffer.alloc(2 * CHUNK);
for (let i = 0; i < PATTERN.length; i++) PATTERN[i] = (i % CHUNK) % 251;
const ONE_CHUNK = PATTERN.subarray(0, CHUNK);

function rss(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  assert.ok(m !== null);
  return Number(m[1]) * 1024;
}

/** Counts and checks a pattern stream; `pauseAt`: stops reading there once, for PAUSE_MS. */
class PatternReader {
  bytes = 0;
  intact = true;
  #paused = false;

  constructor(
    private readonly socket: Socket,
    private readonly pauseAt: number,
  ) {}

  take(d: Buffer): void {
    for (let p = 0; p < d.length; p += CHUNK) {
      const part = d.subarray(p, Math.min(d.length, p + CHUNK));
      const at = this.bytes % CHUNK;
      if (!part.equals(PATTERN.subarray(at, at + part.length))) this.intact = false;
      this.bytes += part.length;
    }
    if (!this.#paused && this.bytes >= this.pauseAt) {
      this.#paused = true;
      this.socket.pause();
      setTimeout(() => this.socket.resume(), PAUSE_MS);
    }
  }
}

/** Writes `total` pattern bytes to `socket`, waiting for 'drain' whenever it says so. */
async function writePattern(socket: Socket, total: number): Promise<void> {
  for (let sent = 0; sent < total; sent += CHUNK) {
    if (!socket.write(ONE_CHUNK)) await once(socket, 'drain');
  }
}

/** /upload: reads the body (stopping once at PAUSE_AT), answers its size; /download: sends 1 GiB. */
async function bulkBackend(t: TestContext): Promise<number> {
  const server = createServer((s) => {
    s.on('error', () => {});
    let head = Buffer.alloc(0);
    const onHead = (d: Buffer): void => {
      head = Buffer.concat([head, d]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      s.off('data', onHead);
      const path = head.toString('latin1', 0, end).split(' ')[1];
      if (path === '/download') {
        s.write(`HTTP/1.1 200 OK\r\ncontent-length: ${GIB}\r\n\r\n`);
        void writePattern(s, GIB);
        return;
      }
      const reader = new PatternReader(s, PAUSE_AT);
      const onBody = (b: Buffer): void => {
        reader.take(b);
        if (reader.bytes < GIB) return;
        s.off('data', onBody);
        const body = `${reader.bytes} ${reader.intact ? 'intact' : 'corrupt'}`;
        s.write(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
      };
      s.on('data', onBody);
      const rest = head.subarray(end + 4);
      if (rest.length > 0) onBody(rest);
    };
    s.on('data', onHead);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  const addr = server.address();
  assert.ok(addr !== null && typeof addr === 'object');
  return addr.port;
}

function upload(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let got = '';
    s.on('error', reject);
    s.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      const end = got.indexOf('\r\n\r\n');
      if (end >= 0 && /intact|corrupt/.test(got)) {
        s.destroy();
        resolve(got.slice(end + 4));
      }
    });
    s.on('connect', () => {
      s.write(`POST /upload HTTP/1.1\r\nhost: test\r\ncontent-length: ${GIB}\r\n\r\n`);
      void writePattern(s, GIB);
    });
  });
}

function download(port: number): Promise<PatternReader> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    const reader = new PatternReader(s, PAUSE_AT);
    let head: Buffer | null = Buffer.alloc(0);
    s.on('error', reject);
    s.on('connect', () => s.write('GET /download HTTP/1.1\r\nhost: test\r\n\r\n'));
    s.on('data', (d: Buffer) => {
      if (head !== null) {
        head = Buffer.concat([head, d]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        d = head.subarray(end + 4);
        head = null;
      }
      reader.take(d);
      if (reader.bytes >= GIB) {
        s.destroy();
        resolve(reader);
      }
    });
  });
}

/** One keep-alive connection that made one request and got its response. */
function idleConnection(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let got = '';
    s.on('error', reject);
    s.on('connect', () => s.write('GET / HTTP/1.1\r\nhost: test\r\n\r\n'));
    const onData = (d: Buffer): void => {
      got += d.toString('latin1');
      if (!got.endsWith('ok\n')) return;
      s.off('data', onData);
      s.off('error', reject);
      s.on('error', () => {});
      resolve(s);
    };
    s.on('data', onData);
  });
}

test('1 GiB up to a slow upstream and 1 GiB down to a slow client, then 10,000 idle connections, within the documented RSS bounds', async (t) => {
  // The clients live in this process: 10,000 sockets need an open-file limit above that.
  const nofile = Number(/^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1] ?? 0);
  assert.ok(nofile > IDLE_CONNECTIONS + 1_000, `the test needs ulimit -n above ${IDLE_CONNECTIONS + 1_000} (it has ${nofile})`);
  const backend = await bulkBackend(t);
  const [bulk, idle] = [await freePort(), await freePort()];
  const yaml = [
    'workers: 1',
    'standby: false',
    'limits: { maxConnections: 12000 }',
    'listeners:',
    '  - name: bulk',
    `    address: 127.0.0.1:${bulk}`,
    '    protocol: http',
    '    routes:',
    '      - { match: { prefix: / }, cluster: slow, timeout: 60s }',
    '  - name: idle',
    `    address: 127.0.0.1:${idle}`,
    '    protocol: http',
    '    routes:',
    '      - { match: { prefix: / }, directResponse: { status: 200, body: "ok\\n" } }',
    'clusters:',
    `  - { name: slow, endpoints: ["127.0.0.1:${backend}"] }`,
    'drain: { strategy: immediate, drainTime: 100ms, parentShutdownTime: 1s }',
    '',
  ].join('\n');
  const inst = await startProxyctl(t, yaml);
  const epoch = inst.epochPids()[0];
  assert.ok(epoch !== undefined);
  const base = rss(epoch);

  let most = base;
  const sampler = setInterval(() => (most = Math.max(most, rss(epoch))), 50);
  const [up, down] = await Promise.all([upload(bulk), download(bulk)]);
  clearInterval(sampler);
  assert.equal(up, `${GIB} intact`, 'the upstream got every byte, in order');
  assert.equal(down.bytes, GIB);
  assert.ok(down.intact, 'the client got every byte, in order');
  t.diagnostic(`epoch RSS ${(base / 2 ** 20).toFixed(1)} MiB idle, +${((most - base) / 2 ** 20).toFixed(1)} MiB at most over the transfers`);
  assert.ok(most - base < TRANSFER_BOUND, `RSS grew ${((most - base) / 2 ** 20).toFixed(1)} MiB over the transfers`);

  const before = rss(epoch);
  const sockets: Socket[] = [];
  t.after(() => {
    for (const s of sockets) s.destroy();
  });
  for (let i = 0; i < IDLE_CONNECTIONS; i += BATCH) sockets.push(...(await Promise.all(Array.from({ length: BATCH }, () => idleConnection(idle)))));
  const perConnection = (rss(epoch) - before) / IDLE_CONNECTIONS;
  t.diagnostic(`${perConnection.toFixed(0)} bytes of RSS per idle connection`);
  assert.ok(perConnection < PER_IDLE_CONNECTION_BOUND, `${perConnection.toFixed(0)} bytes of RSS per idle connection`);
  for (const s of sockets) s.destroy();
});
