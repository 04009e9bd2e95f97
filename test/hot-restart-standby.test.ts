/**
 * Acceptance: the warm standby. A reload takes the standby (no process start), under load and
 * without a failed request; a code change on disk, or `reload --cold`, discards it for a fresh
 * epoch that runs the new code; a standby that dies is replaced.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { processIsAlive } from '../src/shm/locks.js';
import { tempDir } from './helpers.js';
import { HttpLoad } from './fixtures/load.js';
import { adminRequest } from './fixtures/epoch-fake-supervisor.js';
import { configYaml, eventually, freePort, readStat, startProxyctl, type Instance } from './fixtures/supervisor-util.js';

const WARM_EVENTS = ['standby_taken', 'sockets_received', 'workers_ready', 'ready', 'old_epoch_draining'];
const COLD_EVENTS = ['spawned', 'hello', 'sockets_received', 'workers_ready', 'ready', 'old_epoch_draining'];

interface StandbyView {
  epoch: number;
  pid: number;
  state: 'loading' | 'warm';
}

async function standby(inst: Instance): Promise<StandbyView | null> {
  const r = await inst.cli(['status', '--json']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  return r.json.standby as StandbyView | null;
}

/**
 * Waits for a warm standby. It boots at nice 10, so under the test's own load on 2 cores it can
 * take many seconds: poll every 250 ms (each poll is a CLI process at normal priority, which
 * would otherwise starve the very process being waited for) for up to 60 s.
 */
async function warmStandby(inst: Instance, notPid = 0): Promise<StandbyView> {
  const giveUp = Date.now() + 60_000;
  for (;;) {
    const seen = await standby(inst);
    if (seen !== null && seen.state === 'warm' && seen.pid !== notPid) return seen;
    if (Date.now() > giveUp) assert.fail(`no warm standby within 60 s (last seen: ${JSON.stringify(seen)})`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function events(reply: { timeline: Array<{ event: string }> }): string[] {
  return reply.timeline.map((e) => e.event).filter((e) => e !== 'hurried');
}

test('reloads taken by the warm standby under load: no process start, no failed request, counters agree', async (t) => {
  const port = await freePort();
  const inst = await startProxyctl(t, configYaml({ port, workers: 2, drainTime: '300ms', parentShutdownTime: '2s' }));
  // Light load: the standby loads at a lower CPU priority, and heavy load on 2 cores starves it.
  const load = HttpLoad.start(t, port, { keepAlive: 2, perRequest: 1 });
  for (let i = 0; i < 3; i++) {
    const sb = await warmStandby(inst);
    const r = await inst.cli(['reload', '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(events(r.json), WARM_EVENTS);
    // The standby became the active epoch: same number, same pid.
    assert.equal(r.json.epoch, sb.epoch);
    assert.equal(r.json.pid, sb.pid);
  }
  const result = await load.stop();
  assert.deepEqual(result.failures, []);
  assert.ok(result.responses > 50, `only ${result.responses} responses`);
  assert.equal(readStat(inst, 'http.web.downstream_rq_total'), BigInt(result.responses));
});

test('a standby that dies is replaced, and the next reload takes the new one', async (t) => {
  const port = await freePort();
  const inst = await startProxyctl(t, configYaml({ port, workers: 1 }));
  const first = await warmStandby(inst);
  process.kill(first.pid, 'SIGKILL');
  const second = await warmStandby(inst, first.pid);
  assert.notEqual(second.pid, first.pid);
  assert.equal(processIsAlive(first.pid), false);
  const r = await inst.cli(['reload', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(events(r.json), WARM_EVENTS);
  assert.equal(r.json.pid, second.pid);
});

test('reload --cold discards the standby and spawns a fresh epoch; a config can turn the standby off', async (t) => {
  const port = await freePort();
  const inst = await startProxyctl(t, configYaml({ port, workers: 1 }));
  const sb = await warmStandby(inst);
  const r = await inst.cli(['reload', '--cold', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(events(r.json), ['standby_discarded', ...COLD_EVENTS]);
  assert.notEqual(r.json.pid, sb.pid);
  await eventually(() => !processIsAlive(sb.pid), 5_000, 'the discarded standby to exit');

  // `standby: false`: after this reload none is kept, and the next reload starts cold.
  const off = inst.writeConfig('off.yaml', `${configYaml({ port, workers: 1 })}standby: false\n`);
  const r2 = await inst.cli(['reload', '--config', off, '--json']);
  assert.equal(r2.code, 0, r2.stderr);
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.equal(await standby(inst), null);
  const r3 = await inst.cli(['reload', '--json']);
  assert.equal(r3.code, 0, r3.stderr);
  assert.deepEqual(events(r3.json), COLD_EVENTS);
});

/** A copy of the installed package (dependencies linked), so a test can upgrade "the installed code". */
function installCopy(dir: string): string {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const copy = join(dir, 'pkg');
  mkdirSync(join(copy, 'dist'), { recursive: true });
  for (const part of ['bin', 'config', 'build', 'package.json', 'oclif.manifest.json']) cpSync(join(root, part), join(copy, part), { recursive: true });
  cpSync(join(root, 'dist/src'), join(copy, 'dist/src'), { recursive: true });
  symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'));
  return copy;
}

test('a code upgrade through a reload: the standby (old code) is discarded and the new epoch runs the new code', async (t) => {
  const copy = installCopy(tempDir(t));
  const [port, adminPort] = [await freePort(), await freePort()];
  const inst = await startProxyctl(t, configYaml({ port, adminPort, workers: 1 }), { runJs: join(copy, 'bin/run.js') });
  const sb = await warmStandby(inst);
  const before = JSON.parse((await adminRequest(adminPort, '/server_info')).body) as { version: string };

  // "npm install" of a new version: package.json (and so the version the admin reports) changes on disk.
  const pkgPath = join(copy, 'package.json');
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { version: string };
  writeFileSync(pkgPath, JSON.stringify({ ...pkg, version: `${pkg.version}-upgraded` }, null, 2));

  const r = await inst.cli(['reload', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(events(r.json), ['standby_discarded', ...COLD_EVENTS]);
  assert.notEqual(r.json.pid, sb.pid);
  const after = JSON.parse((await adminRequest(adminPort, '/server_info')).body) as { version: string; pid: number };
  assert.equal(after.pid, r.json.pid);
  assert.equal(after.version, `${before.version}-upgraded`);
});
