import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { connect } from 'node:net';
import { get as httpGet, type IncomingMessage } from 'node:http';
import { once } from 'node:events';
import { processIsAlive } from '../src/shm/locks.js';
import { HttpLoad } from './fixtures/load.js';
import { eventually, freePort, readStat, startProxyctl } from './fixtures/supervisor-util.js';

/** One statsd line as received: `name:value|type[|#tags]`, and the port of the socket that sent it. */
interface Line {
  name: string;
  value: number;
  type: string;
  tags: string;
  from: number;
}

/** A statsd server on loopback that keeps every line it gets. */
async function statsdServer(t: TestContext): Promise<{ port: number; lines: Line[] }> {
  const socket: Socket = createSocket('udp4');
  const lines: Line[] = [];
  socket.on('message', (msg, rinfo) => {
    for (const text of msg.toString().split('\n')) {
      const m = /^([^:]+):([^|]+)\|([a-z]+)(?:\|#(.*))?$/.exec(text);
      assert.ok(m, `not a statsd line: ${JSON.stringify(text)}`);
      lines.push({ name: m[1]!, value: Number(m[2]), type: m[3]!, tags: m[4] ?? '', from: rinfo.port });
    }
  });
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  t.after(() => socket.close());
  return { port: socket.address().port, lines };
}

function sum(lines: Line[], name: string, tags = ''): number {
  return lines.filter((l) => l.name === name && l.type === 'c' && l.tags === tags).reduce((n, l) => n + l.value, 0);
}

async function get(port: number, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const res = await new Promise<IncomingMessage>((resolve, reject) => httpGet({ host: '127.0.0.1', port, path: '/', agent: false }, resolve).once('error', reject));
    assert.equal(res.statusCode, 200);
    res.resume();
    await once(res, 'end');
  }
}

test('statsd: counters as deltas that add up to the region across a reload, gauges, dogstatsd tags; a draining epoch sends nothing', { timeout: 30_000 }, async (t) => {
  const plain = await statsdServer(t);
  const tagged = await statsdServer(t);
  const port = await freePort();
  const yaml = [
    'workers: 1',
    'listeners:',
    `  - { name: web, address: 127.0.0.1:${port}, protocol: http, routes: [{ match: { prefix: / }, directResponse: { status: 200, body: ok } }] }`,
    'drain: { strategy: gradual, drainTime: 3s, parentShutdownTime: 4s }',
    'stats:',
    '  flushInterval: 200ms',
    '  sinks:',
    `    - statsd: { address: 127.0.0.1:${plain.port}, prefix: px }`,
    `    - statsd: { address: 127.0.0.1:${tagged.port}, prefix: pd, tags: dogstatsd }`,
    '',
  ].join('\n');
  const inst = await startProxyctl(t, yaml);
  await get(port, 20);
  const total = (): number => Number(readStat(inst, 'http.web.downstream_rq_total'));
  const taggedTotal = (): number => sum(tagged.lines, 'pd.http.downstream_rq_total', 'http_conn_manager_prefix:web');
  await eventually(() => total() === 20 && sum(plain.lines, 'px.http.web.downstream_rq_total') === 20 && taggedTotal() === 20, 5_000, 'the first 20 requests over statsd');
  assert.equal(sum(tagged.lines, 'pd.http.web.downstream_rq_total'), 0, 'with dogstatsd the listener is a tag, not a name part');
  assert.ok(plain.lines.some((l) => l.name === 'px.listener.web.downstream_cx_active' && l.type === 'g'));
  assert.ok(tagged.lines.some((l) => l.name === 'pd.server.hot_restart_generation' && l.type === 'g' && l.value === 0));
  const histogram = plain.lines.find((l) => l.name === 'px.http.web.downstream_rq_time.p99' && l.type === 'g');
  assert.ok(histogram, 'histograms go out as their summary');
  assert.ok(sum(plain.lines, 'px.http.web.downstream_rq_time.count') >= 1);
  const firstSender = plain.lines[0]!.from;
  assert.ok(plain.lines.every((l) => l.from === firstSender), 'one epoch, one sender');

  // An idle keep-alive connection holds the old epoch in its drain (3 s) after the reload.
  const idle = connect(port, '127.0.0.1');
  await once(idle, 'connect');
  t.after(() => idle.destroy());
  const oldPid = inst.epochPids()[0]!;
  const load = HttpLoad.start(t, port, { keepAlive: 2, perRequest: 1 });
  await eventually(() => load.result.responses >= 20, 5_000, 'load before the reload');
  const reload = await inst.cli(['reload', '--json']);
  assert.equal(reload.code, 0, reload.stderr);
  await eventually(() => plain.lines.some((l) => l.from !== firstSender), 5_000, 'the new epoch flushing');
  await new Promise((r) => setTimeout(r, 300));
  const fromOld = plain.lines.filter((l) => l.from === firstSender).length;
  await new Promise((r) => setTimeout(r, 500)); // two and a half flush intervals
  assert.ok(processIsAlive(oldPid), 'the old epoch is still draining');
  assert.equal(plain.lines.filter((l) => l.from === firstSender).length, fromOld, 'a draining epoch sends nothing');

  const result = await load.stop();
  assert.deepEqual(result.failures, []);
  idle.destroy();
  await eventually(() => sum(plain.lines, 'px.http.web.downstream_rq_total') === total() && taggedTotal() === total(), 5_000, 'every request once over statsd');
  assert.ok(total() >= 40 + 20);
});
