/**
 * Acceptance: reloads under real load, with real processes and sockets. Nothing a client sent
 * may fail, and the counters must agree with what the clients saw.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { test } from 'node:test';
import { processIsAlive } from '../src/shm/locks.js';
import { HttpLoad } from './fixtures/load.js';
import { RawClient, delay, startRawBackend } from './fixtures/proxy-util.js';
import { configYaml, eventually, freePort, readStat, startProxyctl } from './fixtures/supervisor-util.js';

test('12 reloads under keep-alive and connection-per-request load: no failure, rq_total equals responses', async (t) => {
  const port = await freePort();
  const inst = await startProxyctl(t, configYaml({ port, workers: 2, drainTime: '400ms', parentShutdownTime: '3s' }));
  const load = HttpLoad.start(t, port, { keepAlive: 6, perRequest: 3 });
  let last = 0n;
  for (let i = 0; i < 12; i++) {
    const r = await inst.cli(['reload', '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.json.ok, true);
    // Back to back, a reload may find the standby warm, still loading (it waits for it), or
    // not yet spawned (a fresh epoch): all three must lose nothing.
    const events = r.json.timeline.map((e: { event: string }) => e.event).filter((e: string) => e !== 'hurried');
    const start = events[0] === 'standby_taken' ? ['standby_taken'] : ['spawned', 'hello'];
    assert.deepEqual(events, [...start, 'sockets_received', 'workers_ready', 'ready', 'old_epoch_draining']);
    const total = readStat(inst, 'http.web.downstream_rq_total');
    assert.ok(total >= last, `rq_total went back from ${last} to ${total}`);
    last = total;
  }
  await delay(200);
  const result = await load.stop();
  assert.deepEqual(result.failures, []);
  assert.ok(result.responses > 100, `only ${result.responses} responses`);
  assert.equal(readStat(inst, 'http.web.downstream_rq_total'), BigInt(result.responses));
});

/** A backend that streams `chunks` chunks of `chunk` bytes, one every `everyMs`. */
async function streamingBackend(t: Parameters<typeof startRawBackend>[0], chunks: number, chunk: string, everyMs: number) {
  return startRawBackend(t, (s) => {
    s.once('data', () => {
      s.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n');
      let sent = 0;
      const timer = setInterval(() => {
        if (s.destroyed) return clearInterval(timer);
        s.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
        if (++sent === chunks) {
          clearInterval(timer);
          s.write('0\r\n\r\n');
        }
      }, everyMs);
    });
  });
}

function routesYaml(port: number, backend: number, body: string): string {
  return `workers: 1
listeners:
  - name: web
    address: 127.0.0.1:${port}
    protocol: http
    routes:
      - match: { prefix: /stream }
        cluster: slow
      - match: { prefix: / }
        directResponse: { status: 200, body: "${body}" }
clusters:
  - name: slow
    endpoints: [127.0.0.1:${backend}]
drain: { strategy: gradual, drainTime: 5s, parentShutdownTime: 10s }
`;
}

test('a slow streaming response in flight finishes byte-exact on the old epoch; new requests get the new config', async (t) => {
  const port = await freePort();
  const chunk = 'x'.repeat(1000);
  const backend = await streamingBackend(t, 15, chunk, 100);
  const inst = await startProxyctl(t, routesYaml(port, backend.port, 'v1'));
  const stream = new RawClient(port);
  t.after(() => stream.socket.destroy());
  await new Promise((r) => stream.socket.once('connect', r));
  stream.get('/stream');
  const streamed = stream.response();
  await delay(300);
  const r = await inst.cli(['reload', '--json', '--config', inst.writeConfig('v2.yaml', routesYaml(port, backend.port, 'v2'))]);
  assert.equal(r.code, 0, r.stderr);
  const fresh = new RawClient(port);
  t.after(() => fresh.socket.destroy());
  fresh.get('/');
  assert.equal((await fresh.response()).body.toString(), 'v2');
  const res = await streamed;
  assert.equal(res.status, 200);
  assert.equal(res.body.toString(), chunk.repeat(15));
});

test('10 reload requests within a second are coalesced: at most 3 live epochs, no failure, nothing leaked', async (t) => {
  const port = await freePort();
  const inst = await startProxyctl(t, configYaml({ port, workers: 1, drainTime: '2s', parentShutdownTime: '4s' }));
  const status = async () => (await inst.cli(['status', '--json'])).json;
  // The supervisor's fds include its standby's pipes and RPC connection: count with one warm.
  // The standby boots at nice 10: poll gently (each poll is a CLI process) and give it time.
  const warmStandby = () => eventually(async () => (await status()).standby?.state === 'warm', 60_000, 'a warm standby', 250);
  await warmStandby();
  const fdsBefore = fdCount(inst.pid);
  const load = HttpLoad.start(t, port, { keepAlive: 4, perRequest: 2 });
  let maxLive = 0n;
  const sampler = setInterval(() => {
    const live = readStat(inst, 'supervisor.live_epochs');
    if (live > maxLive) maxLive = live;
  }, 5);
  const results = await Promise.all(
    Array.from({ length: 10 }, async (_, i) => {
      await delay(i * 100);
      return inst.cli(['reload', '--json']);
    }),
  );
  clearInterval(sampler);
  for (const r of results) assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.ok(results.some((r) => r.json.coalesced === true), 'no request was coalesced');
  const epochs = new Set(results.map((r) => r.json.epoch));
  assert.ok(epochs.size < 10, `${epochs.size} epochs for 10 requests`);
  assert.ok(maxLive <= 3n, `${maxLive} live epochs`);
  const result = await load.stop();
  assert.deepEqual(result.failures, []);
  // Old epochs leave within parentShutdownTime; then only the active one and the standby are left.
  await eventually(async () => (await status()).epochs.filter((e: { state: string }) => e.state !== 'exited').length === 1, 15_000, 'old epochs to exit');
  await warmStandby();
  const pids = inst.epochPids();
  const now = await status();
  const active = now.epochs.find((e: { state: string }) => e.state === 'active').pid;
  for (const pid of pids) if (pid !== active && pid !== now.standby.pid) assert.equal(processIsAlive(pid), false, `epoch pid ${pid} still runs`);
  await eventually(() => fdCount(inst.pid) === fdsBefore, 5_000, `supervisor fds back to ${fdsBefore}`);
});

function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}
