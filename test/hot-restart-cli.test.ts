/**
 * The supervisor's commands end to end: one supervisor per base id, stale files, status,
 * drain, stop, --daemon, and the exit codes scripts rely on.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, readFileSync, readdirSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { processIsAlive } from '../src/shm/locks.js';
import { tempDir } from './helpers.js';
import { RawClient } from './fixtures/proxy-util.js';
import { configYaml, eventually, exitOf, freePort, runCli, startProxyctl } from './fixtures/supervisor-util.js';

async function get(port: number, path = '/'): Promise<{ status: number; body: string }> {
  const c = new RawClient(port);
  try {
    await once(c.socket, 'connect');
    c.get(path, 'connection: close\r\n');
    const r = await c.response();
    return { status: r.status, body: r.body.toString() };
  } finally {
    c.socket.destroy();
  }
}

test('a second supervisor on the same base id is refused and the first is untouched', async (t) => {
  const port = await freePort();
  const first = await startProxyctl(t, configYaml({ port }));
  const r = await runCli(['start', '--json', '--config', first.configPath, '--base-id', String(first.baseId), '--runtime-dir', first.runtimeDir]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.equal(r.json.error.code, 'PROXYCTL_ERR_ALREADY_RUNNING');
  assert.equal(r.json.error.details.pid, first.pid);
  assert.equal((await get(port)).status, 200);
  const status = await first.cli(['status', '--json']);
  assert.equal(status.json.supervisor.pid, first.pid);
});

test('a start over the files of a SIGKILLed supervisor succeeds', async (t) => {
  const port = await freePort();
  const first = await startProxyctl(t, configYaml({ port, drainTime: '200ms', parentShutdownTime: '1s' }));
  first.child.kill('SIGKILL');
  await exitOf(first.child);
  assert.ok(existsSync(join(first.runtimeDir, `base-${first.baseId}`, 'hot-restart.sock')), 'the stale socket file is there');
  // Its orphaned epoch notices and leaves on its own.
  for (const pid of first.epochPids()) await eventually(() => !processIsAlive(pid), 10_000, `orphaned epoch ${pid} to exit`);
  const second = await startProxyctl(t, configYaml({ port }), { runtimeDir: first.runtimeDir, baseId: first.baseId });
  assert.equal((await get(port)).status, 200);
  assert.notEqual(second.pid, first.pid);
});

test('epochs do not inherit the supervisor\'s listening RPC socket (it would outlive a dead supervisor)', async (t) => {
  const port = await freePort();
  const inst = await startProxyctl(t, configYaml({ port }));
  const path = join(inst.runtimeDir, `base-${inst.baseId}`, 'hot-restart.sock');
  // /proc/net/unix: "Num RefCount Protocol Flags Type St Inode Path"; a listener has flag 00010000.
  const line = readFileSync('/proc/net/unix', 'utf8').split('\n').find((l) => l.endsWith(` ${path}`) && l.split(/\s+/)[3] === '00010000');
  assert.ok(line !== undefined, 'the listening socket is in /proc/net/unix');
  const inode = line.trim().split(/\s+/)[6];
  const holders = (pid: number) => readdirSync(`/proc/${pid}/fd`).filter((fd) => { try { return readlinkSync(`/proc/${pid}/fd/${fd}`) === `socket:[${inode}]`; } catch { return false; } });
  assert.equal(holders(inst.pid).length, 1, 'the supervisor holds it');
  let standbyPid = 0;
  await eventually(async () => {
    standbyPid = ((await inst.cli(['status', '--json'])).json.standby as { pid: number } | null)?.pid ?? 0;
    return standbyPid !== 0;
  }, 30_000, 'a standby', 250);
  for (const pid of [...inst.epochPids(), standbyPid]) assert.deepEqual(holders(pid), [], `epoch process ${pid}`);
});

test('status shows the supervisor and its epochs; runtime files are private', async (t) => {
  const port = await freePort();
  const inst = await startProxyctl(t, configYaml({ port, workers: 2 }));
  const r = await inst.cli(['status', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.json.supervisor.pid, inst.pid);
  assert.equal(r.json.supervisor.baseId, inst.baseId);
  assert.equal(r.json.epochs.length, 1);
  const [e] = r.json.epochs;
  assert.equal(e.state, 'active');
  assert.equal(e.epoch, 0);
  assert.equal(e.workers, 2);
  assert.equal(typeof e.uptimeMs, 'number');
  assert.equal(e.connections, 0);
  const text = await inst.cli(['status']);
  assert.equal(text.code, 0);
  const base = join(inst.runtimeDir, `base-${inst.baseId}`);
  assert.equal(statSync(base).mode & 0o777, 0o700);
  for (const f of ['stats', 'hot-restart.sock', 'supervisor.lock']) assert.equal(statSync(join(base, f)).mode & 0o077, 0, `${f} is open to others`);
});

test('drain takes the host out of rotation and stays up; reload puts it back', async (t) => {
  const port = await freePort();
  const adminPort = await freePort();
  const inst = await startProxyctl(t, configYaml({ port, adminPort, drainTime: '300ms', parentShutdownTime: '1s' }));
  const ready = async () => (await get(adminPort, '/ready')).status;
  assert.equal(await ready(), 200);
  const d = await inst.cli(['drain', '--json']);
  assert.equal(d.code, 0, d.stderr);
  assert.equal(d.json.epoch, 0);
  assert.equal(await ready(), 503);
  const s = connect(port, '127.0.0.1');
  const [err] = (await once(s, 'error')) as [NodeJS.ErrnoException];
  assert.equal(err.code, 'ECONNREFUSED');
  const status = await inst.cli(['status', '--json']);
  assert.equal(status.json.epochs[0].state, 'draining');
  assert.ok(processIsAlive(status.json.epochs[0].pid));
  const r = await inst.cli(['reload', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await get(port)).status, 200);
  assert.equal(await ready(), 200);
});

test('stop drains and exits; the runtime files go; commands then exit 69', async (t) => {
  const port = await freePort();
  const inst = await startProxyctl(t, configYaml({ port }));
  const pids = inst.epochPids();
  const r = await inst.cli(['stop']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(await exitOf(inst.child), 0);
  for (const pid of pids) assert.equal(processIsAlive(pid), false);
  const base = join(inst.runtimeDir, `base-${inst.baseId}`);
  assert.equal(existsSync(join(base, 'hot-restart.sock')), false);
  assert.equal(existsSync(join(base, 'stats')), false);
  for (const cmd of [['status'], ['reload'], ['stop'], ['drain'], ['stats']]) {
    const again = await inst.cli([...cmd, '--json']);
    assert.equal(again.code, 69, `${cmd[0]}: ${again.stdout}${again.stderr}`);
    assert.equal(again.json.error.code, 'PROXYCTL_ERR_NOT_RUNNING');
  }
});

test('start --daemon returns once epoch 0 serves; SIGHUP reloads; stop --now ends it', async (t) => {
  const port = await freePort();
  const dir = tempDir(t);
  const runtimeDir = join(dir, 'run');
  const common = ['--base-id', '4242', '--runtime-dir', runtimeDir];
  const config = join(dir, 'proxyctl.yaml');
  writeFileSync(config, configYaml({ port }));
  const r = await runCli(['start', '--daemon', '--json', '--config', config, ...common]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const pid = r.json.pid as number;
  t.after(() => {
    if (processIsAlive(pid)) process.kill(pid, 'SIGKILL');
  });
  assert.equal((await get(port)).status, 200);
  process.kill(pid, 'SIGHUP');
  // A status call that fails (seen once under the full suite's load, not reproduced alone) is
  // asked again; what it said last is in the message if epoch 1 never shows.
  let last = '';
  await eventually(
    async () => {
      const s = await runCli(['status', '--json', ...common]);
      last = `exit ${s.code}: ${s.stdout}${s.stderr}`;
      return s.code === 0 && s.json.epochs.some((e: { epoch: number; state: string }) => e.epoch === 1 && e.state === 'active');
    },
    15_000,
    'epoch 1 after SIGHUP',
  ).catch((err: unknown) => assert.fail(`${String(err)}; last status: ${last}`));
  const stop = await runCli(['stop', '--now', '--json', ...common]);
  assert.equal(stop.code, 0, stop.stderr);
  assert.equal(processIsAlive(pid), false);
});

test('start exits 78 on an invalid config and 1 when the port is taken, leaving nothing behind', async (t) => {
  const dir = tempDir(t);
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'listeners: []\n');
  const r = await runCli(['start', '--json', '--config', bad, '--base-id', '4243', '--runtime-dir', join(dir, 'run')]);
  assert.equal(r.code, 78);
  assert.equal(r.json.error.code, 'PROXYCTL_ERR_CONFIG_INVALID');
  const port = await freePort();
  const squatter = createServer().listen(port, '127.0.0.1');
  t.after(() => squatter.close());
  await once(squatter, 'listening');
  const good = join(dir, 'good.yaml');
  writeFileSync(good, configYaml({ port }));
  const taken = await runCli(['start', '--json', '--config', good, '--base-id', '4243', '--runtime-dir', join(dir, 'run')]);
  assert.equal(taken.code, 1, taken.stdout + taken.stderr);
  assert.equal(taken.json.error.code, 'PROXYCTL_ERR_LISTEN');
  assert.equal(existsSync(join(dir, 'run', 'base-4243', 'hot-restart.sock')), false);
});
