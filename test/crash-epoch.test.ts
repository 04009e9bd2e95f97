/**
 * Crash chaos inside one supervisor: an epoch SIGKILLed under load, then a worker thread that
 * crashes (the `crash-worker` fault). After each a serving epoch is back, no connection that
 * had its answer is reset, and after the worker crash the other workers' responses finish.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HttpLoad } from './fixtures/load.js';
import { delay } from './fixtures/proxy-util.js';
import { answeredClients, assertAllGone, inFlight, pidsOf, slowBackend } from './fixtures/chaos-util.js';
import { clusterConfig, eventually, freePort, readStat, startProxyctl, type Instance } from './fixtures/supervisor-util.js';

async function activePid(inst: Instance): Promise<number | null> {
  const r = await inst.cli(['status', '--json']);
  if (r.code !== 0) return null;
  return r.json.epochs.find((e: { state: string }) => e.state === 'active')?.pid ?? null;
}

/** No answered connection saw a reset (a close with FIN is fine). */
function resets(clients: Awaited<ReturnType<typeof answeredClients>>): string[] {
  return clients.flatMap((a) => a.errors);
}

test('SIGKILL of an epoch, then a crashed worker: a serving epoch comes back each time, no answered connection is reset', async (t) => {
  const backend = await slowBackend(t);
  const port = await freePort();
  const yaml = `${clusterConfig({ port, workers: 2, cluster: [`endpoints: [127.0.0.1:${backend.port}]`], drainTime: '1s', parentShutdownTime: '8s' })}standby: false\n`;
  const inst = await startProxyctl(t, yaml);

  // 1. The active epoch is SIGKILLed under load.
  const killed = await activePid(inst);
  assert.ok(killed !== null);
  const load = HttpLoad.start(t, port, { keepAlive: 2, perRequest: 1 });
  const idle = await answeredClients(t, port, 4);
  process.kill(killed, 'SIGKILL');
  await Promise.all(idle.map((a) => a.client.whenClosed()));
  assert.deepEqual(resets(idle), [], 'an answered connection of the killed epoch was reset');
  await eventually(async () => ![null, killed].includes(await activePid(inst)), 30_000, 'a respawned active epoch', 200);
  const respawned = await activePid(inst);
  const before = load.result.responses;
  await eventually(() => load.result.responses > before + 10, 20_000, 'the load served by the respawned epoch');
  const loaded = await load.stop();
  // Only a request on the wire at the kill may fail: at most one per load connection.
  assert.ok(loaded.failures.length <= 3, `failures: ${loaded.failures}`);

  // 2. A worker of the next epoch throws 1 s after it serves (crash-worker).
  const idle2 = await answeredClients(t, port, 4);
  const r = await inst.cli(['reload', '--json'], { PROXYCTL_TEST_FAULT: 'crash-worker' });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const crashing = r.json.pid as number;
  const slow = Array.from({ length: 16 }, (_, i) => inFlight(t, port, `/slow/1500/${i}`));
  await eventually(() => inst.entries().some((e) => e.msg === `epoch ${r.json.epoch} lost worker 0; bringing up a replacement, then it drains`), 20_000, 'the worker crash reported');
  await eventually(async () => ![crashing, respawned].includes(await activePid(inst)), 30_000, 'a replacement active epoch', 200);
  const outcomes = await Promise.all(slow);
  const failed = outcomes.flatMap((o, i) => (o === 200 ? [] : [`/slow/1500/${i}`]));
  // A request on the crashed worker died with it (its upstream request was cut, or it never got
  // that far); every other one finished.
  assert.deepEqual(
    failed.filter((p) => backend.received.has(p) && !backend.aborted.has(p)),
    [],
    `failed on a healthy worker: ${outcomes}`,
  );
  assert.ok(outcomes.filter((o) => o === 200).length > 0, `no response finished: ${outcomes}`);
  // The crashed epoch was drained, not lost: it exits 0 and counts as no unexpected exit.
  await eventually(() => inst.entries().some((e) => e.msg === `epoch ${r.json.epoch} exited` && e.how === 'code 0'), 20_000, 'the crashed epoch to drain and exit 0');
  assert.equal(readStat(inst, 'supervisor.epoch_worker_crash'), 1n);
  assert.equal(readStat(inst, 'supervisor.epoch_unexpected_exit'), 1n);
  await delay(100);
  assert.deepEqual(resets(idle2), [], 'an answered connection was reset');
  assert.equal((await inst.cli(['status'])).code, 0);

  const stop = await inst.cli(['stop']);
  assert.equal(stop.code, 0, stop.stderr);
  await assertAllGone(pidsOf(inst), 10_000, 'after stop');
});
