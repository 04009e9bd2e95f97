/**
 * Connection caps on the real thing (`proxyctl start`, two workers): past a listener's
 * `maxConnections` or the epoch's `limits.maxConnections` the workers stop accepting, and the
 * connections past the cap wait in the kernel's accept queue (HAProxy's maxconn), not
 * accepted and reset. A close lets the next one in, on whichever worker and listener.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient } from './fixtures/proxy-util.js';
import { eventually, freePort, readStat, startProxyctl } from './fixtures/supervisor-util.js';

function yaml(web: number, api: number): string {
  const direct = (name: string, port: number, extra: string): string[] => [
    `  - name: ${name}`,
    `    address: 127.0.0.1:${port}`,
    '    protocol: http',
    ...(extra === '' ? [] : [`    ${extra}`]),
    '    routes:',
    `      - { match: { prefix: / }, directResponse: { status: 200, body: "${name}\\n" } }`,
  ];
  return ['workers: 2', 'standby: false', 'limits: { maxConnections: 5 }', 'listeners:', ...direct('web', web, 'maxConnections: 3'), ...direct('api', api, ''), 'drain: { strategy: immediate, drainTime: 100ms, parentShutdownTime: 1s }', ''].join('\n');
}

/** A keep-alive connection that has had one response: the proxy holds it. */
async function served(t: Parameters<typeof RawClient.open>[0], port: number): Promise<RawClient> {
  const c = await RawClient.open(t, port);
  c.get('/');
  assert.equal((await c.response()).status, 200);
  return c;
}

test('past maxConnections, connections wait in the accept queue and are served, none reset, as others close', async (t) => {
  const [web, api] = [await freePort(), await freePort()];
  const inst = await startProxyctl(t, yaml(web, api));
  const stat = (name: string): number => Number(readStat(inst, name));

  // The listener cap: three on web, and both workers stop accepting there.
  const webConns = [await served(t, web), await served(t, web), await served(t, web)];
  await eventually(() => stat('listener.web.downstream_cx_limit_paused') === 2, 10_000, 'both workers paused on web');
  // A fourth connects (the kernel completes the handshake) but is not accepted.
  const waitingWeb = await RawClient.open(t, web);
  waitingWeb.get('/');

  // The epoch cap: 3 + 2 = 5, so api stops too, and one more waits there.
  const apiConns = [await served(t, api), await served(t, api)];
  await eventually(() => stat('listener.api.downstream_cx_limit_paused') === 2, 10_000, 'both workers paused on api');
  const waitingApi = await RawClient.open(t, api);
  waitingApi.get('/');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(stat('listener.web.downstream_cx_total'), 3, 'nothing accepted past the listener cap');
  assert.equal(stat('listener.api.downstream_cx_total'), 2, 'nothing accepted past the epoch cap');
  assert.equal(waitingWeb.received().length, 0);
  assert.equal(waitingApi.received().length, 0);

  // One api connection closes: the epoch is under its cap, and api (not web, still at 3) takes its waiter.
  apiConns[0]?.socket.destroy();
  const a = await waitingApi.response();
  assert.equal(a.status, 200);
  assert.equal(a.body.toString(), 'api\n');
  assert.equal(waitingWeb.received().length, 0, 'web is still at its own cap');

  // One web connection and one api connection close: web takes its waiter.
  apiConns[1]?.socket.destroy();
  webConns[0]?.socket.destroy();
  const w = await waitingWeb.response();
  assert.equal(w.status, 200);
  assert.equal(w.body.toString(), 'web\n');
  assert.ok(!waitingWeb.closed && !waitingApi.closed, 'the waiters were served, not reset');

  for (const c of [...webConns, waitingWeb, waitingApi]) c.socket.destroy();
  await eventually(() => stat('listener.web.downstream_cx_limit_paused') === 0 && stat('listener.api.downstream_cx_limit_paused') === 0, 10_000, 'every worker accepting again');
  const more = await served(t, web);
  more.socket.destroy();
  assert.ok(stat('listener.web.downstream_cx_limit_pauses') >= 2);
  assert.ok(stat('listener.api.downstream_cx_limit_pauses') >= 2);
  assert.equal(stat('listener.web.downstream_cx_overflow'), 0, 'nothing refused');
});
