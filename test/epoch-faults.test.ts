/**
 * PROXYCTL_TEST_FAULT in a real epoch process: each fault fails the boot at its step, with its
 * exit code, and never after a ready it should not have sent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isProxyctlError } from '../src/errors.js';
import { RawClient, delay } from './fixtures/proxy-util.js';
import { FakeSupervisor, freePorts, testConfig } from './fixtures/epoch-fake-supervisor.js';

async function supervisor(t: Parameters<typeof FakeSupervisor.start>[0]): Promise<{ sup: FakeSupervisor; web: number }> {
  const [web] = (await freePorts(1)) as [number];
  return { sup: await FakeSupervisor.start(t, { configText: testConfig({ web }) }), web };
}

test('crash-before-ready: exit 70 after taking the sockets, never ready', async (t) => {
  const { sup } = await supervisor(t);
  const epoch = sup.spawnEpoch(1, 'crash-before-ready');
  assert.equal((await epoch.exitWithin(5000)).code, 70);
  assert.equal(sup.getSocketsCount, 1);
  assert.equal(sup.readies.length, 0);
});

test('hang-before-ready: never ready, yet answers; terminate ends it with 0', async (t) => {
  const { sup } = await supervisor(t);
  const epoch = sup.spawnEpoch(1, 'hang-before-ready');
  await sup.connection();
  while (sup.getSocketsCount === 0) await delay(20);
  await delay(500);
  assert.ok(epoch.alive);
  assert.equal(sup.readies.length, 0);
  const status = await sup.request({ type: 'epochStatus' });
  assert.equal(status.body.connections, 0);
  await sup.request({ type: 'terminate' });
  assert.deepEqual(await epoch.exitWithin(2000), { code: 0, signal: null });
  assert.equal(sup.readies.length, 0);
});

test('crash-after-ready: serves, then exits 70', async (t) => {
  const { sup, web } = await supervisor(t);
  const epoch = sup.spawnEpoch(1, 'crash-after-ready');
  await sup.ready();
  const c = await RawClient.open(t, web);
  c.get('/');
  assert.equal((await c.response()).status, 200);
  assert.equal((await epoch.exitWithin(3000)).code, 70);
});

test('incompatible-version: the supervisor refuses the hello, exit 75', async (t) => {
  const { sup } = await supervisor(t);
  const epoch = sup.spawnEpoch(1, 'incompatible-version');
  assert.equal((await epoch.exitWithin(5000)).code, 75);
  assert.ok(sup.refusals.some((r) => isProxyctlError(r, 'PROXYCTL_ERR_HOT_RESTART_VERSION')));
  assert.equal(sup.getConfigCount, 0);
});

test('a received socket that cannot be listened on: exit 1 after ready', async (t) => {
  const [web] = (await freePorts(1)) as [number];
  const sup = await FakeSupervisor.start(t, { configText: testConfig({ web }), badSlotFor: 'web' });
  const epoch = sup.spawnEpoch(1);
  assert.equal((await epoch.exitWithin(5000)).code, 1);
  assert.equal(sup.readies.length, 1);
});

test('an unknown fault is ignored: the epoch boots', async (t) => {
  const { sup } = await supervisor(t);
  const epoch = sup.spawnEpoch(1, 'explode-sideways');
  await sup.ready();
  await sup.request({ type: 'terminate' });
  assert.equal((await epoch.exitWithin(2000)).code, 0);
});

test('crash-worker: worker 0 dies, worker 1 serves on (its answered keep-alive connection too), the supervisor is asked for a replacement, and a drain still ends', async (t) => {
  const [web] = (await freePorts(1)) as [number];
  const sup = await FakeSupervisor.start(t, { configText: testConfig({ web }), slotPorts: true, workerCrashed: true });
  const epoch = sup.spawnEpoch(1, 'crash-worker');
  await sup.ready();
  const [slot0, slot1] = sup.slotPorts.get('web') as [number, number];
  const kept = await RawClient.open(t, slot1);
  kept.get('/');
  assert.equal((await kept.response()).status, 200);
  const doomed = await RawClient.open(t, slot0);
  while (sup.crashReports.length === 0) await delay(20);
  assert.equal(sup.crashReports[0]?.worker, 0);
  await doomed.whenClosed();
  // The other worker's connection lives on, and it accepts new ones.
  kept.get('/');
  assert.equal((await kept.response()).status, 200);
  const fresh = await RawClient.open(t, slot1);
  fresh.get('/', 'connection: close\r\n');
  assert.equal((await fresh.response()).status, 200);
  assert.ok(epoch.alive);
  // A drain waits for the live worker only: once its connection is gone, the epoch exits 0.
  kept.socket.end();
  await sup.request({ type: 'drain', strategy: 'immediate', drainTimeMs: 300, parentShutdownTimeMs: 20_000, exit: true });
  assert.deepEqual(await epoch.exitWithin(5000), { code: 0, signal: null });
  assert.equal(sup.crashReports.length, 1);
});

test('crash-worker under a supervisor that does not know workerCrashed: exit 70, to be respawned', async (t) => {
  const { sup } = await supervisor(t);
  const epoch = sup.spawnEpoch(1, 'crash-worker');
  await sup.ready();
  assert.equal((await epoch.exitWithin(5000)).code, 70);
});
