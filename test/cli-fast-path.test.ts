/**
 * The fast path (src/cli/fast-path.ts) runs the control commands without oclif. It must be
 * invisible: for every argv below, the fast path and oclif print the same stdout and stderr
 * and exit with the same status. Each run also reports whether @oclif/core was loaded, so
 * the test knows which path it measured.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BASE_FLAGS, COMMAND_FLAGS } from '../src/cli/flag-spec.js';
import { FAST_COMMANDS, parseFastArgv } from '../src/cli/fast-argv.js';
import { ExitCode, ProxyctlError } from '../src/errors.js';
import { StatsRegion } from '../src/shm/index.js';
import { baseIdPaths, ensurePrivateDir } from '../src/runtime-dir.js';
import { createRpcServer, type ReloadRequest, type StatusReply } from '../src/uds-rpc/index.js';
import { tempDir } from './helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin/run.js');

/** Any PROXYCTL_* variable that is not proxyctl's own sends argv to oclif (see fast-path.ts). */
const VIA_OCLIF = { PROXYCTL_CLI_VIA_OCLIF: '1' };

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  oclifLoaded: boolean;
}

/** A preload that writes, at exit, whether any @oclif/core module was loaded. */
function probe(t: TestContext): { script: string; out: string } {
  const dir = tempDir(t, 'proxyctl-probe-');
  const script = join(dir, 'probe.cjs');
  writeFileSync(
    script,
    "process.on('exit', () => require('fs').writeFileSync(process.env.FAST_PATH_PROBE_OUT, String(Object.keys(require('module')._cache).some((k) => k.includes('@oclif')))));\n",
  );
  return { script, out: join(dir, 'out') };
}

/** Runs proxyctl asynchronously (the fake supervisor below answers from this process). */
function proxyctl(t: TestContext, args: string[], env: Record<string, string> = {}): Promise<Run> {
  const p = probe(t);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--require', p.script, BIN, ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...withoutOclifEnv(process.env), NO_COLOR: '1', FAST_PATH_PROBE_OUT: p.out, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr, oclifLoaded: readFileSync(p.out, 'utf8') === 'true' }));
  });
}

/** The test's own environment must not decide the path. */
function withoutOclifEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && !k.startsWith('OCLIF_') && !(k.startsWith('PROXYCTL_') && k !== 'PROXYCTL_RUNTIME_DIR') && k !== 'DEBUG') out[k] = v;
  return out;
}

/**
 * Runs `args` both ways and asserts the same output and exit status; `fast` says whether the
 * fast path is expected to take it. Returns the fast path's run.
 */
async function same(t: TestContext, args: string[], fast: boolean, normalize: (s: string) => string = (s) => s): Promise<Run> {
  const quick = await proxyctl(t, args);
  const slow = await proxyctl(t, args, VIA_OCLIF);
  const what = args.join(' ');
  assert.equal(quick.oclifLoaded, !fast, `${what}: fast path ${fast ? 'not ' : ''}taken`);
  assert.equal(slow.oclifLoaded, true, `${what}: oclif run`);
  assert.equal(quick.code, slow.code, `${what}: exit status`);
  assert.equal(normalize(quick.stdout), normalize(slow.stdout), `${what}: stdout`);
  assert.equal(normalize(quick.stderr), normalize(slow.stderr), `${what}: stderr`);
  return quick;
}

function errorCode(r: Run): string | undefined {
  return (JSON.parse(r.stdout) as { error?: { code?: string } }).error?.code;
}

test('parseFastArgv takes only argv whose meaning is certain', () => {
  assert.deepEqual(parseFastArgv(['status']), { command: 'status', flags: { 'base-id': 0, 'runtime-dir': undefined, 'no-color': false, clusters: false }, json: false });
  assert.deepEqual(parseFastArgv(['status', '--clusters', '--json']), { command: 'status', flags: { 'base-id': 0, 'runtime-dir': undefined, 'no-color': false, clusters: true }, json: true });
  assert.deepEqual(parseFastArgv(['reload', '--cold', '--json', '--base-id=12', '--config', 'a=b.yaml', '--no-color']), {
    command: 'reload',
    flags: { 'base-id': 12, 'runtime-dir': undefined, 'no-color': true, config: 'a=b.yaml', cold: true },
    json: true,
  });
  assert.deepEqual(parseFastArgv(['stop', '--runtime-dir', '/r', '--now'])?.flags, { 'base-id': 0, 'runtime-dir': '/r', 'no-color': false, now: true, timeout: '5m' });
  assert.deepEqual(parseFastArgv(['drain', '--wait'])?.flags, { 'base-id': 0, 'runtime-dir': undefined, 'no-color': false, wait: true });
  assert.equal(parseFastArgv(['status', '--base-id', '0065535'])?.flags['base-id'], 65535);
  for (const argv of [
    [],
    ['start'],
    ['validate', 'x.yaml'],
    ['--json', 'status'],
    ['status', '--help'],
    ['status', '-h'],
    ['status', '--version'],
    ['status', 'extra'],
    ['status', '--'],
    ['status', '--bogus'],
    ['status', '--no-json'],
    ['status', '--json', '--json'],
    ['status', '--json=true'],
    ['status', '--base-id'],
    ['status', '--base-id', '-1'],
    ['status', '--base-id', '65536'],
    ['status', '--base-id', '1.5'],
    ['status', '--base-id', '+1'],
    ['status', '--base-id='],
    ['status', '--base-id', '1', '--base-id', '2'],
    ['status', '--runtime-dir', '--json'],
    ['status', '--runtime-dir', ''],
    ['status', '--cold'],
    ['reload', '--cold=yes'],
    ['reload', '--no-cold'],
    ['stop', '--now=false'],
    ['status', '--no-color=true'],
    ['status', '--no-color', '--no-color'],
    ['status', '--color'],
    ['stats', '--filter', '-x'],
    ['status', '--constructor', '1'],
  ]) {
    assert.equal(parseFastArgv(argv), null, argv.join(' '));
  }
});

test('the fast path flag table is the one oclif was built from (oclif.manifest.json)', () => {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'oclif.manifest.json'), 'utf8')) as {
    commands: Record<string, { enableJsonFlag: boolean; flags: Record<string, { type: string; default?: unknown }> }>;
  };
  assert.deepEqual(Object.keys(manifest.commands).sort(), Object.keys(COMMAND_FLAGS).sort());
  for (const [id, own] of Object.entries(COMMAND_FLAGS)) {
    const cmd = manifest.commands[id]!;
    assert.equal(cmd.enableJsonFlag, true, id);
    const specs = { ...BASE_FLAGS, ...own };
    assert.deepEqual(Object.keys(cmd.flags).sort(), ['json', ...Object.keys(specs)].sort(), `${id}: flag names`);
    for (const [name, spec] of Object.entries(specs)) {
      const flag = cmd.flags[name]!;
      assert.equal(flag.type, spec.kind === 'boolean' ? 'boolean' : 'option', `${id} --${name}: type`);
      if (spec.kind !== 'boolean') assert.equal(flag.default, spec.default, `${id} --${name}: default`);
    }
  }
  for (const id of FAST_COMMANDS) assert.ok(Object.hasOwn(COMMAND_FLAGS, id));
});

test('nothing running: same output and exit 69 both ways; usage errors exit 2 both ways', async (t) => {
  const dir = ['--runtime-dir', tempDir(t), '--base-id', '4711'];
  for (const args of [['status'], ['status', '--json'], ['reload', '--json'], ['reload', '--cold', '--config', 'x.yaml'], ['drain', '--json'], ['stop'], ['stop', '--now', '--json'], ['stats', '--json'], ['stats']]) {
    const r = await same(t, [...args, ...dir], true);
    assert.equal(r.code, ExitCode.UNAVAILABLE, args.join(' '));
    if (args.includes('--json')) assert.equal(errorCode(r), 'PROXYCTL_ERR_NOT_RUNNING');
    else assert.match(r.stderr, /^proxyctl: PROXYCTL_ERR_NOT_RUNNING: /);
  }
  // Usage errors the command body finds (the fast path runs them).
  for (const args of [['stop', '--timeout', 'soon', '--json'], ['stats', '--filter', '(', '--json']]) {
    const r = await same(t, [...args, ...dir], true);
    assert.equal(r.code, ExitCode.USAGE);
    assert.equal(errorCode(r), 'PROXYCTL_ERR_USAGE');
  }
  // Usage errors oclif finds: the fast path steps aside.
  for (const args of [['status', '--bogus', '--json'], ['status', '--base-id', '-1', '--json'], ['status', '--base-id', '70000', '--json'], ['reload', '--cold=yes', '--json'], ['drain', '--base-id', 'x', '--json']]) {
    const r = await same(t, [...args, ...dir.slice(0, 2)], false);
    assert.equal(r.code, ExitCode.USAGE, args.join(' '));
    assert.equal(errorCode(r), 'PROXYCTL_ERR_USAGE');
  }
  const human = await same(t, ['status', '--bogus', ...dir], false);
  assert.equal(human.code, ExitCode.USAGE);
  assert.match(human.stderr, /^proxyctl: PROXYCTL_ERR_USAGE: /);
  // Help is oclif's.
  const help = await same(t, ['reload', '--help'], false);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--cold/);
});

test('against a supervisor: status with and without a standby, reload --cold, drain, a failed reload', async (t) => {
  const runtimeDir = tempDir(t);
  const baseId = 4712;
  const paths = baseIdPaths(runtimeDir, baseId);
  const common = ['--runtime-dir', runtimeDir, '--base-id', String(baseId)];
  const epochs: StatusReply['epochs'] = [
    { epoch: 3, pid: 4242, state: 'active', uptimeMs: 3_723_000, connections: 5, workers: 2 },
    { epoch: 2, pid: 4141, state: 'draining', uptimeMs: 125_000, connections: null, workers: 2 },
  ];
  const supervisor = { pid: 4000, baseId, uptimeMs: 7_300_000, configPath: '/etc/proxyctl/proxyctl.yaml', reloading: false };
  let standby: unknown = { epoch: 4, pid: 4343, uptimeMs: 9_000, state: 'warm' };
  const reloads: ReloadRequest[] = [];
  let failReload = false;
  const askedClusters: unknown[] = [];
  const host = { address: '127.0.0.1:9001', weight: 3, locality: { zone: 'z1' }, metadata: null, health: 'unhealthy', flags: ['failed_active_hc', 'failed_outlier_check'], activeRequests: 2, outlier: { ejected: true, ejectedUntil: 1_800_000_000_000, ejections: 2, lastReason: 'consecutive5xx' }, since: 0 };
  let clusters: unknown = [{ name: 'app', discovery: 'static', lb: 'roundRobin', healthy: 0, degraded: 0, panic: true, hosts: [host] }];
  const server = createRpcServer({
    path: paths.hotRestartSocket,
    hello: { role: 'supervisor', epoch: -1 },
    handlers: {
      // `standby` as a supervisor sends it: an object, null, or (older supervisor) absent.
      status: (req) => {
        askedClusters.push(req.clusters);
        // `clusters` as a supervisor sends it when asked: a list, null, or (older supervisor) absent.
        const extra = req.clusters === true && clusters !== undefined ? { clusters } : {};
        return { body: { type: 'status', supervisor, epochs, ...(standby === undefined ? {} : { standby }), ...extra } as StatusReply };
      },
      reload: (req) => {
        reloads.push(req);
        if (failReload) throw new ProxyctlError('PROXYCTL_ERR_EPOCH_FAILED', 'epoch 5 exited with code 70 before it was ready', { epoch: 5 });
        return { body: { type: 'reload', epoch: 4, pid: 4343, configPath: supervisor.configPath, coalesced: false, timeline: [{ event: 'spawned', atMs: 0, detail: 'epoch 4 pid 4343' }, { event: 'ready', atMs: 9 }] } };
      },
      drainHost: () => ({ body: { type: 'drainHost', epoch: 3, connections: 5 } }),
    },
  });
  await server.listen();
  t.after(() => server.close());

  const status = await same(t, ['status', ...common], true);
  assert.equal(status.code, 0);
  assert.match(status.stdout, /^4 +4343 +standby +9s +- +-$/m);
  const json = await same(t, ['status', '--json', ...common], true);
  assert.deepEqual(JSON.parse(json.stdout).standby, standby);
  assert.deepEqual(Object.keys(JSON.parse(json.stdout)), ['ok', 'command', 'supervisor', 'epochs', 'standby']);

  standby = { epoch: 4, pid: 4343, uptimeMs: 1_000, state: 'loading' };
  assert.match((await same(t, ['status', ...common], true)).stdout, /^4 +4343 +loading /m);
  standby = null;
  assert.match((await same(t, ['status', ...common], true)).stdout, /^standby: none$/m);
  standby = undefined;
  assert.match((await same(t, ['status', ...common], true)).stdout, /^standby: none$/m);
  assert.equal(JSON.parse((await same(t, ['status', '--json', ...common], true)).stdout).standby, null);

  askedClusters.length = 0;
  const table = await same(t, ['status', '--clusters', ...common], true);
  assert.equal(table.code, 0);
  assert.match(table.stdout, /^cluster app: .*, PANIC$/m);
  assert.match(table.stdout, /^127\.0\.0\.1:9001 +3 +unhealthy +failed_active_hc,failed_outlier_check +2 +ejected until \d\d:\d\d:\d\d \(2×\) +zone=z1$/m);
  assert.deepEqual(JSON.parse((await same(t, ['status', '--clusters', '--json', ...common], true)).stdout).clusters, clusters);
  assert.deepEqual(askedClusters, [true, true, true, true], 'asked only with --clusters, by both paths');
  clusters = null;
  assert.match((await same(t, ['status', '--clusters', ...common], true)).stdout, /^clusters: unknown /m);
  clusters = undefined;
  assert.equal(JSON.parse((await same(t, ['status', '--clusters', '--json', ...common], true)).stdout).clusters, null);
  assert.equal('clusters' in JSON.parse((await same(t, ['status', '--json', ...common], true)).stdout), false);

  reloads.length = 0;
  const cold = await same(t, ['reload', '--cold', '--json', ...common], true);
  assert.equal(cold.code, 0);
  assert.equal(JSON.parse(cold.stdout).epoch, 4);
  assert.deepEqual(Object.keys(JSON.parse(cold.stdout)), ['ok', 'command', 'epoch', 'pid', 'configPath', 'coalesced', 'timeline']);
  assert.deepEqual(reloads.map((r) => r.cold), [true, true]);
  reloads.length = 0;
  const warm = await same(t, ['reload', '--config', 'new.yaml', ...common], true);
  assert.equal(warm.code, 0);
  assert.deepEqual(reloads.map((r) => [r.cold ?? false, r.configPath]), [[false, join(ROOT, 'new.yaml')], [false, join(ROOT, 'new.yaml')]]);
  assert.equal((await same(t, ['drain', ...common], true)).code, 0);
  // drain --wait: the fake epoch has drained by the first status it is asked.
  epochs[0]!.connections = 0;
  const waited = await same(t, ['drain', '--wait', '--json', ...common], true);
  assert.deepEqual(JSON.parse(waited.stdout), { ok: true, command: 'drain', epoch: 3, connections: 5, remaining: 0 });
  // Colour forced into a pipe (FORCE_COLOR) and taken away again (--no-color): the same bytes both ways.
  for (const args of [['status'], ['status', '--no-color']]) {
    const quick = await proxyctl(t, [...args, ...common], { NO_COLOR: '', FORCE_COLOR: '1' });
    const slow = await proxyctl(t, [...args, ...common], { NO_COLOR: '', FORCE_COLOR: '1', ...VIA_OCLIF });
    assert.equal(quick.oclifLoaded, false);
    assert.equal(quick.stdout, slow.stdout, args.join(' '));
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the ANSI colour escape starts with ESC
    assert.equal(/\x1b\[32mactive/.test(quick.stdout), !args.includes('--no-color'), args.join(' '));
  }

  failReload = true;
  const failed = await same(t, ['reload', ...common], true);
  assert.equal(failed.code, ExitCode.TEMPFAIL);
  assert.match(failed.stderr, /^proxyctl: PROXYCTL_ERR_EPOCH_FAILED: /);
  const failedJson = await same(t, ['reload', '--json', ...common], true);
  assert.equal(errorCode(failedJson), 'PROXYCTL_ERR_EPOCH_FAILED');
});

test('stats reads the region the same way on both paths', async (t) => {
  const runtimeDir = tempDir(t);
  const paths = baseIdPaths(runtimeDir, 4713);
  ensurePrivateDir(paths.dir);
  const region = StatsRegion.create(paths.stats);
  region.counter('http.web.downstream_rq_total').add(7);
  region.histogram('http.web.downstream_rq_time').record(120);
  const common = ['--runtime-dir', runtimeDir, '--base-id', '4713'];
  assert.equal((await same(t, ['stats', ...common], true)).code, 0);
  assert.equal((await same(t, ['stats', '--json', '--filter', '^http', ...common], true)).code, 0);
});
