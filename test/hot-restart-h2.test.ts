/**
 * Acceptance: hot restart with HTTP/2 and WebSockets on, with the real supervisor. Reloads
 * under h2c load fail no request (clients move to a new connection after the old epoch's
 * GOAWAY), and a WebSocket open at a reload keeps working on the old epoch until its drain
 * deadline.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { test, type TestContext } from 'node:test';
import WebSocket, { WebSocketServer } from 'ws';
import { H2Load } from './fixtures/h2-load.js';
import { delay, listenOnLoopback } from './fixtures/proxy-util.js';
import { eventually, freePort, readStat, startProxyctl } from './fixtures/supervisor-util.js';

function h2Yaml(port: number, body: string, drainTime: string, parentShutdownTime: string, wsPort = 0): string {
  return `workers: 2
listeners:
  - name: web
    address: 127.0.0.1:${port}
    protocol: http
    http2: true
    routes:
${wsPort === 0 ? '' : '      - match: { prefix: /ws }\n        cluster: ws\n'}      - match: { prefix: / }
        directResponse: { status: 200, body: "${body}" }
${wsPort === 0 ? '' : `clusters:\n  - name: ws\n    endpoints: [127.0.0.1:${wsPort}]\n`}drain: { strategy: gradual, drainTime: ${drainTime}, parentShutdownTime: ${parentShutdownTime} }
`;
}

test('4 reloads under h2c load (4 connections x 16 streams): no request fails, clients reconnect after GOAWAY', async (t) => {
  const port = await freePort();
  const inst = await startProxyctl(t, h2Yaml(port, 'v0', '300ms', '3s'));
  const load = H2Load.start(t, port, 4, 16);
  await eventually(() => load.result.responses > 200, 20_000, 'first responses');
  for (let i = 1; i <= 4; i++) {
    const path = inst.writeConfig(`v${i}.yaml`, h2Yaml(port, `v${i}`, '300ms', '3s'));
    const r = await inst.cli(['reload', '--config', path, '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const before = load.result.bodies.get(`v${i}`) ?? 0;
    await eventually(() => (load.result.bodies.get(`v${i}`) ?? 0) > before + 50, 20_000, `responses of v${i}`);
  }
  const result = await load.stop();
  assert.deepEqual(result.failures, []);
  assert.ok(result.sessions > 4, `the clients never moved to a new connection (${result.sessions} sessions)`);
  // Every stream the clients saw answered was counted once, by the epoch that answered it.
  await eventually(() => readStat(inst, 'http.web.downstream_rq_total') === BigInt(result.responses), 5_000, 'rq_total to match the responses');
});

/** An HTTP server that echoes WebSocket messages. */
async function echoUpstream(t: TestContext): Promise<number> {
  const server = createServer((_req, res) => res.end('plain'));
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws) => ws.on('message', (data, binary) => ws.send(data, { binary })));
  t.after(() => {
    for (const c of wss.clients) c.terminate();
  });
  return listenOnLoopback(t, server);
}

async function echo(ws: WebSocket, text: string): Promise<string> {
  const reply = once(ws, 'message');
  ws.send(text);
  const [data] = (await reply) as [Buffer];
  return data.toString();
}

test('a WebSocket open at a reload keeps echoing on the old epoch, and is closed at its drain deadline', async (t) => {
  const port = await freePort();
  const wsPort = await echoUpstream(t);
  const inst = await startProxyctl(t, h2Yaml(port, 'v0', '2s', '4s', wsPort));
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
  t.after(() => ws.terminate());
  await once(ws, 'open');
  assert.equal(await echo(ws, 'before'), 'before');
  const closed = once(ws, 'close');
  const r = await inst.cli(['reload', '--json']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  // The new epoch serves; the tunnel still runs through the old one, which is draining.
  assert.equal(await echo(ws, 'after the reload'), 'after the reload');
  await delay(1000);
  assert.equal(ws.readyState, WebSocket.OPEN);
  assert.equal(await echo(ws, 'while draining'), 'while draining');
  await closed;
  await eventually(() => readStat(inst, 'listener.web.downstream_cx_drain_forced') >= 1n, 10_000, 'the forced close to be counted');
});
