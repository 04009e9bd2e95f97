/** Upgrade and WebSocket through the HTTP/1 connection manager, with the `ws` client and server. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { TestContext } from 'node:test';
import WebSocket, { WebSocketServer } from 'ws';
import { RawClient, cluster, delay, httpListener, listenOnLoopback, makeConfig, startPlane } from './fixtures/proxy-util.js';

/** An HTTP server that echoes WebSocket messages and answers plain requests with 200 "plain". */
async function echoUpstream(t: TestContext): Promise<number> {
  const server = createServer((_req, res) => res.end('plain'));
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    if (req.url === '/forbidden') {
      socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 2\r\n\r\nno');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => ws.on('message', (data, binary) => ws.send(data, { binary })));
  });
  t.after(() => {
    for (const c of wss.clients) c.terminate();
  });
  return listenOnLoopback(t, server);
}

async function wsPlane(t: TestContext) {
  const port = await echoUpstream(t);
  return startPlane(t, makeConfig([httpListener('web', [{ match: { prefix: '/' }, cluster: 'app' }])], [cluster('app', [port])]));
}

function open(t: TestContext, url: string): Promise<WebSocket> {
  const ws = new WebSocket(url);
  t.after(() => ws.terminate());
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function nextMessage(ws: WebSocket): Promise<Buffer> {
  return new Promise((resolve) => ws.once('message', (d: Buffer) => resolve(d)));
}

test('a WebSocket echoes through the proxy both ways, text and a 4 MiB binary message', async (t) => {
  const h = await wsPlane(t);
  const ws = await open(t, `ws://127.0.0.1:${h.ports.web}/chat`);
  ws.send('hello');
  assert.equal((await nextMessage(ws)).toString(), 'hello');
  const big = Buffer.alloc(4 * 1024 * 1024, 7);
  big[12345] = 1;
  ws.send(big);
  assert.ok((await nextMessage(ws)).equals(big));
  assert.equal(h.counter('http.web.downstream_cx_upgrades_total'), 1);
  assert.equal(h.gauge('http.web.downstream_cx_upgrades_active'), 1);
  assert.equal(h.counter('http.web.downstream_rq_1xx'), 1);
  ws.close(1000, 'bye');
  const [code] = (await once(ws, 'close')) as [number];
  assert.equal(code, 1000);
  while (h.gauge('http.web.downstream_cx_upgrades_active') !== 0) await delay(10);
});

test('an upgrade the upstream refuses is an ordinary response; Upgrade is not forwarded without Connection: upgrade', async (t) => {
  const h = await wsPlane(t);
  await assert.rejects(open(t, `ws://127.0.0.1:${h.ports.web}/forbidden`), /403/);
  const c = await RawClient.open(t, h.ports.web as number);
  c.get('/plain', 'upgrade: websocket\r\n'); // no Connection: upgrade, so no upgrade
  const r = await c.response();
  assert.equal(r.status, 200);
  assert.equal(r.body.toString(), 'plain');
  assert.equal(h.counter('http.web.downstream_cx_upgrades_total'), 0);
});

test('a WebSocket lives through the drain until the deadline, then is closed and counted as forced', async (t) => {
  const h = await wsPlane(t);
  const ws = await open(t, `ws://127.0.0.1:${h.ports.web}/chat`);
  h.plane.startDrain({ strategy: 'immediate', drainTimeMs: 0, deadlineAt: Date.now() + 600, forceAtDeadline: true });
  await delay(300);
  ws.send('still here');
  assert.equal((await nextMessage(ws)).toString(), 'still here');
  await once(ws, 'close');
  assert.equal(h.counter('listener.web.downstream_cx_drain_forced'), 1);
});
