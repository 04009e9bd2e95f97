/**
 * proxyctl under systemd, with python3 playing systemd: the unit `proxyctl systemd-unit`
 * prints passes `systemd-analyze verify`; the supervisor's sd_notify sequence across reloads
 * and a stop; sockets passed with LISTEN_FDS are served from instead of bound.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DRAIN_DEFAULTS } from '../src/config/schema.js';
import { isProxyctlError } from '../src/errors.js';
import { takeSystemdEnv } from '../src/systemd/env.js';
import { renderUnit } from '../src/systemd/unit.js';
import { curl, run } from './fixtures/clients.js';
import { configYaml, eventually, exitOf, freePort, runCli, startProxyctl } from './fixtures/supervisor-util.js';
import { activationWrapper, startNotifyReceiver } from './fixtures/systemd-util.js';
import { tempDir } from './helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The warm standby would only add a process competing for the CPU: these reloads are about systemd, not speed. */
const NO_STANDBY = 'standby: false\n';

test('systemd-analyze verify passes the system and the user unit, and contrib/ holds the unit for the default install paths', async (t) => {
  const dir = tempDir(t);
  // A space and a '%' in the path: quoted and escaped on the unit's command lines.
  const config = join(dir, 'my 100% proxy.yaml');
  writeFileSync(config, configYaml({ port: await freePort(), parentShutdownTime: '20s', drainTime: '10s' }));
  // verify runs man(1) on Documentation=: give it our pages where it looks.
  for (const [section, page] of [['man1', 'proxyctl.1'], ['man5', 'proxyctl.yaml.5']] as const) {
    mkdirSync(join(dir, 'man', section), { recursive: true });
    copyFileSync(join(ROOT, 'man', page), join(dir, 'man', section, page));
  }
  const runtime = join(dir, 'xdg');
  mkdirSync(runtime, { mode: 0o700 });
  for (const user of [false, true]) {
    const printed = await runCli(['systemd-unit', '--config', config, ...(user ? ['--user'] : []), '--json']);
    assert.equal(printed.code, 0, printed.stderr);
    // parentShutdownTime 20 s + 5 s the supervisor waits for an overstaying epoch + 5 s margin.
    assert.equal(printed.json.timeoutStopSec, 30);
    const unit: string = printed.json.unit;
    assert.match(unit, /^TimeoutStopSec=30$/m);
    assert.match(unit, /^Type=notify$/m);
    assert.ok(unit.includes(`start --config "${config.replace('%', '%%')}"`), 'ExecStart names the config, quoted');
    assert.equal(/^User=/m.test(unit), !user);
    const file = join(dir, user ? 'user' : 'system', 'proxyctl.service');
    mkdirSync(join(file, '..'));
    writeFileSync(file, unit);
    // A user manager's %t is $XDG_RUNTIME_DIR.
    const verify = await run('env', [`MANPATH=${join(dir, 'man')}`, `XDG_RUNTIME_DIR=${runtime}`, 'systemd-analyze', ...(user ? ['--user'] : []), 'verify', file], 20_000);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    assert.equal((verify.stdout + verify.stderr).split('\n').filter((l) => l.includes('proxyctl')).join('\n'), '', 'no warning about our unit');
  }

  const committed = readFileSync(join(ROOT, 'contrib/systemd/proxyctl.service'), 'utf8');
  const expected = renderUnit({ user: false, command: ['/usr/bin/node', '/usr/local/lib/node_modules/proxyctl/bin/run.js'], configPath: '/etc/proxyctl/proxyctl.yaml', drain: DRAIN_DEFAULTS, drainIsDefault: true, baseId: 0 });
  assert.equal(committed, expected, 'contrib/systemd/proxyctl.service is what `proxyctl systemd-unit` prints for the default install (regenerate it)');
});

test('systemd variables are taken out of the environment, and only those meant for this pid are used', () => {
  const env: NodeJS.ProcessEnv = { NOTIFY_SOCKET: '@sd', WATCHDOG_USEC: '500000', WATCHDOG_PID: '42', LISTEN_PID: '42', LISTEN_FDS: '2', LISTEN_FDNAMES: 'web', KEEP: 'x' };
  assert.deepEqual(takeSystemdEnv({ ...env }, 42), { notifySocket: '@sd', watchdogUsec: 500_000, listenFds: [{ fd: 3, name: 'web' }, { fd: 4, name: 'unknown' }] });
  const other = { ...env };
  assert.deepEqual(takeSystemdEnv(other, 7), { notifySocket: '@sd', watchdogUsec: null, listenFds: [] });
  assert.deepEqual(other, { KEEP: 'x' });
  assert.deepEqual(takeSystemdEnv({ LISTEN_FDS: '1' }, 42).listenFds, [], 'no LISTEN_PID: not known to be ours');
  assert.throws(() => takeSystemdEnv({ LISTEN_PID: '42', LISTEN_FDS: 'x' }, 42), (err: unknown) => isProxyctlError(err) && err.code === 'PROXYCTL_ERR_SOCKET_ACTIVATION');
});

/** The sd_notify messages that change the service's state, in order. */
function stateChanges(received: { fields: Map<string, string> }[]): string[] {
  return received.flatMap((n) => ['READY', 'RELOADING', 'STOPPING'].filter((k) => n.fields.get(k) === '1').map((k) => `${k}=1`));
}

test('the supervisor tells systemd READY, RELOADING/READY around each reload (a failed one too), STOPPING, STATUS and WATCHDOG; no epoch ever talks to it', async (t) => {
  const dir = tempDir(t);
  const socket = join(dir, 'notify.sock');
  const { received } = await startNotifyReceiver(t, socket);
  const port = await freePort();
  const inst = await startProxyctl(t, configYaml({ port, workers: 1, strategy: 'immediate', drainTime: '200ms', parentShutdownTime: '2s' }) + NO_STANDBY, { env: { NOTIFY_SOCKET: socket, WATCHDOG_USEC: '200000' } });
  await eventually(() => stateChanges(received).length === 1, 5_000, 'READY=1');
  const ready = received.find((n) => n.fields.has('READY'))!;
  assert.equal(ready.fields.get('MAINPID'), String(inst.pid));
  assert.match(ready.fields.get('STATUS') ?? '', /^epoch 0 active/);

  // What an epoch inherits: nothing of systemd's.
  const [epoch0] = inst.epochPids();
  const environ = readFileSync(`/proc/${epoch0}/environ`, 'utf8').split('\0');
  assert.deepEqual(environ.filter((kv) => /^(NOTIFY_SOCKET|WATCHDOG_USEC|WATCHDOG_PID|LISTEN_\w+)=/.test(kv)), []);

  const reloaded = await inst.cli(['reload', '--json']);
  assert.equal(reloaded.code, 0, reloaded.stderr);
  await eventually(() => received.some((n) => n.fields.get('STATUS') === `epoch ${reloaded.json.epoch} active`), 5_000, 'STATUS after the drain');
  // A new epoch that crashes: the reload fails, the old epoch serves on, the service is ready again.
  const failed = await inst.cli(['reload', '--cold', '--json'], { PROXYCTL_TEST_FAULT: 'crash-before-ready' });
  assert.equal(failed.code, 75);
  assert.equal((await curl([`http://127.0.0.1:${port}/`])).status, 200);
  const stopped = await inst.cli(['stop']);
  assert.equal(stopped.code, 0, stopped.stderr);
  await exitOf(inst.child);
  await eventually(() => stateChanges(received).length >= 6, 2_000, 'STOPPING=1');

  assert.deepEqual(stateChanges(received), ['READY=1', 'RELOADING=1', 'READY=1', 'RELOADING=1', 'READY=1', 'STOPPING=1']);
  const reloading = received.filter((n) => n.fields.has('RELOADING'));
  for (const n of reloading) {
    // CLOCK_MONOTONIC in µs: the receiver's clock, a little later.
    const usec = Number(n.fields.get('MONOTONIC_USEC'));
    assert.ok(Number.isInteger(usec) && usec <= n.atUs && n.atUs - usec < 10_000_000, `MONOTONIC_USEC=${n.fields.get('MONOTONIC_USEC')} at ${n.atUs}`);
  }
  const readies = received.filter((n) => n.fields.get('READY') === '1');
  assert.match(readies[2]!.fields.get('STATUS') ?? '', /last reload failed/);
  assert.match(received.find((n) => n.fields.has('STOPPING'))!.fields.get('STATUS') ?? '', /^stopping/);
  assert.ok(received.filter((n) => n.fields.get('WATCHDOG') === '1').length >= 2, 'WATCHDOG=1 every WATCHDOG_USEC/2');
  // The kernel's word on who sent each datagram: the supervisor, never an epoch.
  assert.deepEqual([...new Set(received.map((n) => n.pid))], [inst.pid]);
});

/** Listening TCP sockets on 127.0.0.1:`port`, from /proc/net/tcp (state 0A). */
function listenersOn(port: number): number {
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  return readFileSync('/proc/net/tcp', 'utf8').split('\n').filter((l) => l.trim().split(/\s+/)[1] === local && l.trim().split(/\s+/)[3] === '0A').length;
}

/** How many of `pid`'s fds are `socket` (a `socket:[inode]` link). */
function fdsOf(pid: number, socket: string): number {
  return readdirSync(`/proc/${pid}/fd`).filter((fd) => {
    try {
      return readlinkSync(`/proc/${pid}/fd/${fd}`) === socket;
    } catch {
      return false;
    }
  }).length;
}

test('sockets passed with LISTEN_FDS are served from, not bound, by every worker and across a reload; an unmatched one is closed', async (t) => {
  const [web, admin, stray] = [await freePort(), await freePort(), await freePort()];
  const inst = await startProxyctl(t, configYaml({ port: web, adminPort: admin, workers: 2, strategy: 'immediate', drainTime: '200ms' }) + NO_STANDBY, { wrapper: activationWrapper([`tcp:${web}`, `tcp:${admin}`, `udp:${stray}`]) });
  const passed = readlinkSync(`/proc/${inst.pid}/fd/3`);
  for (let i = 0; i < 4; i++) assert.equal((await curl([`http://127.0.0.1:${web}/`])).body, 'ok\n');
  assert.equal((await curl([`http://127.0.0.1:${admin}/ready`])).status, 200);
  // One listening socket on each address, the one passed in: proxyctl bound nothing of its own.
  assert.equal(listenersOn(web), 1);
  assert.equal(listenersOn(admin), 1);
  // Each of the 2 workers got its own copy of the passed socket (they share its accept queue),
  // and keeps a duplicate of it to listen again on after a pause at a connection cap.
  assert.equal(fdsOf(inst.epochPids()[0]!, passed), 4, 'epoch 0 accepts on the passed socket in both workers');
  // The datagram socket matched no listener: nothing holds it any more.
  assert.ok(!readFileSync('/proc/net/udp', 'utf8').includes(`0100007F:${stray.toString(16).toUpperCase().padStart(4, '0')}`));

  const reloaded = await inst.cli(['reload', '--json']);
  assert.equal(reloaded.code, 0, reloaded.stderr);
  assert.equal(fdsOf(reloaded.json.pid, passed), 4, 'the new epoch accepts on the passed socket');
  for (let i = 0; i < 4; i++) assert.equal((await curl([`http://127.0.0.1:${web}/`])).body, 'ok\n');
  assert.equal(listenersOn(web), 1);
  const environ = readFileSync(`/proc/${reloaded.json.pid}/environ`, 'utf8').split('\0');
  assert.deepEqual(environ.filter((kv) => kv.startsWith('LISTEN_')), []);
});

test('a passed socket on a listener address that is not a listening TCP socket is refused', async (t) => {
  const web = await freePort();
  const failed = await startProxyctl(t, configYaml({ port: web }), { wrapper: activationWrapper([`udp:${web}`]) }).then(
    () => null,
    (err: Error & { exitCode?: number }) => err,
  );
  assert.ok(failed !== null, 'start refused the socket');
  assert.equal(failed.exitCode, 1);
  assert.match(failed.message, /PROXYCTL_ERR_SOCKET_ACTIVATION/);
});
