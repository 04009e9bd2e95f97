/**
 * Crash chaos: the supervisor SIGKILLed under load. Its epochs keep serving what they have,
 * stop accepting, drain and exit, leaving no process behind; the next `proxyctl start` on the
 * same base id takes over the stale files (lock, hot-restart socket, stats region, admin
 * socket) and serves. No connection that had its answer is reset.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request } from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import { RawClient, delay } from './fixtures/proxy-util.js';
import { HttpLoad } from './fixtures/load.js';
import { answeredClients, assertAllGone, inFlight, pidsOf, slowBackend } from './fixtures/chaos-util.js';
import { clusterConfig, freePort, readStat, startProxyctl } from './fixtures/supervisor-util.js';

/** Connects until a request is answered 200; resolves with when that was. */
async function firstServed(port: number, giveUpAt: number): Promise<number> {
  for (;;) {
    const c = new RawClient(port);
    try {
      await once(c.socket, 'connect');
      c.get('/', 'connection: close\r\n');
      if ((await c.response()).status === 200) return Date.now();
    } catch {
      // refused (nobody listens yet) or cut: try again
    } finally {
      c.socket.destroy();
    }
    if (Date.now() > giveUpAt) throw new Error('nothing served the port');
    await delay(5);
  }
}

/** GET `path` on the admin endpoint's Unix socket: its status. */
function adminStatus(socketPath: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

test('SIGKILL of the supervisor under load: epochs finish what they have and exit; the next start takes over and serves', async (t) => {
  const backend = await slowBackend(t);
  const port = await freePort();
  const yaml = `${clusterConfig({ port, workers: 2, cluster: [`endpoints: [127.0.0.1:${backend.port}]`], drainTime: '1s', parentShutdownTime: '4s' })}admin: { unix: true }\n`;
  const first = await startProxyctl(t, yaml);
  const load = HttpLoad.start(t, port, { keepAlive: 2, perRequest: 1 });
  const answered = await answeredClients(t, port, 4);
  const slow = Array.from({ length: 4 }, (_, i) => inFlight(t, port, `/slow/1500/${i}`));
  const reached = Date.now() + 10_000;
  while (backend.received.size < 4 && Date.now() < reached) await delay(20);
  assert.equal(backend.received.size, 4, 'the slow requests reached the backend');
  const pids = pidsOf(first);
  assert.ok(pids.length >= 2, `supervisor and epochs: ${pids}`);

  process.kill(first.pid, 'SIGKILL');
  // What the epochs had is finished: the answers on their way, and the idle connections closed without a reset.
  assert.deepEqual(await Promise.all(slow), [200, 200, 200, 200]);
  await Promise.all(answered.map((a) => a.client.whenClosed()));
  assert.deepEqual(answered.flatMap((a) => a.errors), [], 'an answered connection was reset');

  // The next start on the same base id, while the old epochs may still drain.
  const startedAt = Date.now();
  const served = firstServed(port, startedAt + 30_000);
  const second = await startProxyctl(t, yaml, { runtimeDir: first.runtimeDir, baseId: first.baseId });
  const ms = (await served) - startedAt;
  t.diagnostic(`supervisor takeover: ${ms} ms from start to the first served request`);
  const tookOver = second.entries().find((e) => e.msg === 'took over from a supervisor that died');
  assert.equal(tookOver?.deadPid, first.pid);
  assert.equal((await second.cli(['status'])).code, 0);
  assert.equal(await adminStatus(join(second.runtimeDir, `base-${second.baseId}`, 'admin.sock'), '/ready'), 200);
  assert.ok(readStat(second, 'http.web.downstream_rq_total') >= 1n, 'the new stats region counts');

  await assertAllGone(pids, 10_000, 'after the supervisor was killed');
  const result = await load.stop();
  // Between the old epochs closing their sockets and the new start binding, connects are refused: nothing else.
  assert.deepEqual(
    result.failures.filter((f) => f !== 'ECONNREFUSED'),
    [],
  );
  assert.ok(result.responses > 0);

  const stop = await second.cli(['stop']);
  assert.equal(stop.code, 0, stop.stderr);
  await assertAllGone(pidsOf(second), 10_000, 'after stop');
});
