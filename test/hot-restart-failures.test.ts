/**
 * Acceptance: reloads and epochs that go wrong. The serving epoch must never be hurt, and
 * the CLI must say what happened with the documented code and exit status.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { once } from 'node:events';
import { test, type TestContext } from 'node:test';
import { processIsAlive } from '../src/shm/locks.js';
import { HttpLoad } from './fixtures/load.js';
import { RawClient, delay } from './fixtures/proxy-util.js';
import { configYaml, eventually, freePort, readStat, startProxyctl, type Instance } from './fixtures/supervisor-util.js';

async function activeEpoch(inst: Instance): Promise<{ epoch: number; pid: number }> {
  const r = await inst.cli(['status', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const active = r.json.epochs.find((e: { state: string }) => e.state === 'active');
  assert.ok(active, `no active epoch in ${r.stdout}`);
  return { epoch: active.epoch, pid: active.pid };
}

test('an invalid config is refused with 78 and file:line:col; the serving epoch keeps its pid and serves on', async (t) => {
  const port = await freePort();
  const inst = await startProxyctl(t, configYaml({ port }));
  const before = await activeEpoch(inst);
  const load = HttpLoad.start(t, port, { keepAlive: 2, perRequest: 1 });
  const bad = inst.writeConfig('bad.yaml', 'workers: 2\nlisteners:\n  - name: web\n    address: nowhere\n');
  const r = await inst.cli(['reload', '--config', bad]);
  assert.equal(r.code, 78);
  assert.match(r.stderr, /bad\.yaml:\d+:\d+: /);
  const j = await inst.cli(['reload', '--json', '--config', bad]);
  assert.equal(j.code, 78);
  assert.equal(j.json.error.code, 'PROXYCTL_ERR_CONFIG_INVALID');
  await delay(200);
  assert.deepEqual(await activeEpoch(inst), before);
  const result = await load.stop();
  assert.deepEqual(result.failures, []);
  assert.ok(result.responses > 0);
});

for (const fault of ['crash-before-ready', 'hang-before-ready'] as const) {
  test(`${fault}: the new epoch is killed, the old one serves on, reload exits 75, the next reload succeeds`, async (t) => {
    const port = await freePort();
    const inst = await startProxyctl(t, configYaml({ port }), { args: ['--ready-timeout', '5s'] });
    const before = await activeEpoch(inst);
    const load = HttpLoad.start(t, port, { keepAlive: 2, perRequest: 1 });
    const r = await inst.cli(['reload', '--json'], { PROXYCTL_TEST_FAULT: fault });
    assert.equal(r.code, 75, r.stdout + r.stderr);
    assert.equal(r.json.error.code, fault === 'crash-before-ready' ? 'PROXYCTL_ERR_EPOCH_FAILED' : 'PROXYCTL_ERR_READY_TIMEOUT');
    const failedPid = r.json.error.details.pid as number;
    assert.equal(processIsAlive(failedPid), false, 'the failed epoch still runs');
    assert.deepEqual(await activeEpoch(inst), before);
    const ok = await inst.cli(['reload', '--json']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.notEqual(ok.json.pid, before.pid);
    const result = await load.stop();
    assert.deepEqual(result.failures, []);
  });
}

test('an epoch with an incompatible hot-restart version is refused with 75 and the serving epoch is untouched', async (t) => {
  const port = await freePort();
  const inst = await startProxyctl(t, configYaml({ port }));
  const before = await activeEpoch(inst);
  const r = await inst.cli(['reload', '--json'], { PROXYCTL_TEST_FAULT: 'incompatible-version' });
  assert.equal(r.code, 75, r.stdout + r.stderr);
  assert.equal(r.json.error.code, 'PROXYCTL_ERR_HOT_RESTART_VERSION');
  assert.deepEqual(await activeEpoch(inst), before);
});

test('SIGKILL of the active epoch: connections opened in the gap wait and are served by the respawned epoch', async (t) => {
  const port = await freePort();
  const inst = await startProxyctl(t, configYaml({ port }));
  const before = await activeEpoch(inst);
  process.kill(before.pid, 'SIGKILL');
  // Clients connect while no epoch runs: the supervisor's sockets keep them in the backlog.
  const answers = await Promise.all(
    Array.from({ length: 20 }, async () => {
      const c = new RawClient(port);
      try {
        await once(c.socket, 'connect');
        c.get('/', 'connection: close\r\n');
        return (await c.response()).status;
      } finally {
        c.socket.destroy();
      }
    }),
  );
  assert.deepEqual(answers, Array(20).fill(200));
  const after = await activeEpoch(inst);
  assert.notEqual(after.pid, before.pid);
  assert.ok(after.epoch > before.epoch);
});

/** `n` keep-alive connections that each had one answer and now sit idle. */
function idleClients(t: TestContext, port: number, n: number): Promise<RawClient[]> {
  return Promise.all(
    Array.from({ length: n }, async () => {
      const c = await RawClient.open(t, port);
      c.get('/');
      await c.response();
      return c;
    }),
  );
}

test('SIGKILL of the old epoch during its drain: the new epoch is unaffected and the active-connection gauge is right', async (t) => {
  const port = await freePort();
  const inst = await startProxyctl(t, configYaml({ port, drainTime: '20s', parentShutdownTime: '30s' }));
  // Two idle keep-alive connections keep epoch 0 draining.
  const held = await idleClients(t, port, 2);
  const old = await activeEpoch(inst);
  const r = await inst.cli(['reload', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const load = HttpLoad.start(t, port, { keepAlive: 2, perRequest: 1 });
  await delay(200);
  process.kill(old.pid, 'SIGKILL');
  await eventually(() => held.every((c) => c.closed), 5_000, 'the old epoch\'s connections to close');
  await delay(300);
  const result = await load.stop();
  assert.deepEqual(result.failures, []);
  // Three idle connections now, all on the new epoch; the dead epoch's lane was cleared.
  const open = await idleClients(t, port, 3);
  await eventually(() => readStat(inst, 'listener.web.downstream_cx_active') === BigInt(open.length), 5_000, `downstream_cx_active == ${open.length}`);
  assert.equal((await activeEpoch(inst)).pid, r.json.pid);
});

test('a connection to the port after stop is refused', async (t) => {
  const port = await freePort();
  const inst = await startProxyctl(t, configYaml({ port }));
  const r = await inst.cli(['stop', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(processIsAlive(inst.pid), false);
  const s = connect(port, '127.0.0.1');
  const [err] = (await once(s, 'error')) as [NodeJS.ErrnoException];
  assert.equal(err.code, 'ECONNREFUSED');
});
