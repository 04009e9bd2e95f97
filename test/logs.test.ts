/**
 * The log as operators read it: one JSON object a line in a --log-file (the supervisor's lines
 * and every epoch's, each with its writer's pid and epoch), the human form with --log-format
 * pretty, levels set at the start and per epoch at the admin endpoint's /logging, and SIGUSR1
 * reopening the file after logrotate moved it.
 */
import assert from 'node:assert/strict';
import { readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDir } from './helpers.js';
import { configYaml, eventually, exitOf, freePort, logEntries, runCli, startProxyctl, type Instance, type LogEntry } from './fixtures/supervisor-util.js';

async function admin(port: number, path: string, method = 'GET'): Promise<{ status: number; body: string; allow: string | null }> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`, { method });
  return { status: r.status, body: await r.text(), allow: r.headers.get('allow') };
}

/** pid of each epoch by number, as `proxyctl status --json` reports them. */
async function epochPids(inst: Instance): Promise<Map<number, number>> {
  const s = await inst.cli(['status', '--json']);
  assert.equal(s.code, 0, s.stderr);
  return new Map((s.json.epochs as { epoch: number; pid: number }[]).map((e) => [e.epoch, e.pid]));
}

test('--log-file: every line is JSON with its writer; /logging sets one epoch level; SIGUSR1 reopens the file', async (t) => {
  const [port, adminPort] = [await freePort(), await freePort()];
  const logFile = join(tempDir(t), 'proxyctl.log');
  // No standby: each epoch here is started for the test, and a standby's boot would only compete with it.
  const inst = await startProxyctl(t, `standby: false\n${configYaml({ port, adminPort, workers: 1, strategy: 'immediate', drainTime: '0s' })}`, { logFile });
  const pids = await epochPids(inst);

  assert.deepEqual(await admin(adminPort, '/logging'), { status: 200, body: 'level: info\n', allow: null });
  const viaGet = await admin(adminPort, '/logging?level=debug');
  assert.deepEqual([viaGet.status, viaGet.allow], [405, 'POST']);
  assert.equal((await admin(adminPort, '/logging?level=loud', 'POST')).status, 400);
  assert.equal((await admin(adminPort, '/logging', 'POST')).status, 400);
  assert.deepEqual(await admin(adminPort, '/logging?level=debug', 'POST'), { status: 200, body: 'level: debug\n', allow: null });
  assert.equal((await admin(adminPort, '/ready')).status, 200);
  await eventually(() => inst.entries().some((e) => e.level === 'debug' && e.component === 'epoch' && e.msg === 'admin request' && e.path === '/ready'), 5_000, 'the main thread to log the admin request at debug');

  // logrotate moved the file: SIGUSR1 starts a new one; the workers got the level too.
  renameSync(logFile, `${logFile}.1`);
  process.kill(inst.pid, 'SIGUSR1');
  await eventually(() => inst.entries().some((e) => e.level === 'debug' && e.component === 'worker 0' && e.epoch === 0 && e.msg === 'access logs reopened'), 5_000, "epoch 0's worker to log at debug in the new file");

  const r = await inst.cli(['reload', '--json']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(r.json.epoch, 1);
  // The level was epoch 0's: epoch 1 starts at --log-level.
  assert.equal((await admin(adminPort, '/logging')).body, 'level: info\n');
  for (const [n, pid] of await epochPids(inst)) pids.set(n, pid);
  inst.child.kill('SIGTERM');
  assert.equal(await exitOf(inst.child), 0);

  const rotated = readFileSync(`${logFile}.1`, 'utf8');
  const fresh = readFileSync(logFile, 'utf8');
  const lines = (rotated + fresh).trimEnd().split('\n');
  const entries = logEntries(rotated + fresh);
  assert.equal(entries.length, lines.length, 'every line is JSON');
  for (const e of entries) {
    assert.deepEqual([typeof e.level, typeof e.time, typeof e.msg, typeof e.pid, 'epoch' in e], ['string', 'string', 'string', 'number', true], JSON.stringify(e));
    if (e.component === 'supervisor') assert.deepEqual([e.pid, e.epoch], [inst.pid, null], JSON.stringify(e));
    else if (e.epoch === 0 || e.epoch === 1) assert.equal(e.pid, pids.get(e.epoch), JSON.stringify(e));
  }
  const seen = (pred: (e: LogEntry) => boolean, text: string): boolean => logEntries(text).some(pred);
  assert.ok(seen((e) => e.component === 'supervisor' && e.msg === 'epoch 0 ready' && e.epochPid === pids.get(0), rotated));
  assert.ok(seen((e) => e.component === 'supervisor' && e.msg === 'log file reopened', fresh));
  assert.ok(seen((e) => e.component === 'supervisor' && e.msg === 'epoch 1 ready' && e.epochPid === pids.get(1), fresh));
  assert.ok(seen((e) => e.epoch === 1 && e.component === 'epoch' && e.msg === 'serving', fresh));
  assert.ok(!seen((e) => e.epoch === 1 && e.level === 'debug', fresh), 'epoch 1 logs nothing at debug');
});

test('--log-format pretty renders every line for people; --log-level debug reaches the workers; a bad level is a usage error', async (t) => {
  const port = await freePort();
  // Refused before anything starts; run beside the real start, on a base id of their own.
  const elsewhere = ['--json', '--base-id', '65000', '--runtime-dir', join(tempDir(t), 'run')];
  const refused = Promise.all([runCli(['start', '--log-level', 'loud', ...elsewhere]), runCli(['start', '--log-format', 'xml', ...elsewhere])]);
  const inst = await startProxyctl(t, `standby: false\n${configYaml({ port, workers: 1 })}`, { args: ['--log-format', 'pretty', '--log-level', 'debug'] });
  const pids = await epochPids(inst);
  await eventually(() => / debug epoch 0 worker 0: plane configured /.test(inst.log()), 5_000, "the worker's debug line");
  const lines = inst.log().trimEnd().split('\n');
  for (const line of lines) assert.match(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (debug|info|warn|error) (supervisor|epoch \d+|epoch \d+ worker \d+): \S/);
  assert.ok(lines.some((l) => l.includes(` info supervisor: epoch 0 ready epochPid=${pids.get(0)} `)), inst.log());
  assert.ok(lines.some((l) => / info epoch 0: serving workers=1 /.test(l)), inst.log());

  assert.deepEqual(
    (await refused).map((r) => r.json?.error?.code),
    ['PROXYCTL_ERR_USAGE', 'PROXYCTL_ERR_USAGE'],
  );
});
