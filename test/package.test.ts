/**
 * The npm package installs and runs on its own: `npm pack`, `npm install -g` of the tarball
 * into a private prefix (node-gyp builds the addons there), then the installed `proxyctl`,
 * run from outside the repo, starts a daemon on a config of its own, answers a request,
 * reloads and stops, with every file it loads (code and native addons) inside the prefix.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { processIsAlive } from '../src/shm/locks.js';
import { tempDir } from './helpers.js';
import { configYaml, freePort } from './fixtures/supervisor-util.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

// npm run test passes its own npm_* settings down; the install must see only the user's.
const ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_')));

test('npm pack, npm install -g of the tarball, and the installed proxyctl starts, serves, reloads and stops', { timeout: 240_000 }, async (t) => {
  const dir = tempDir(t, 'proxyctl-pkg-');
  // --ignore-scripts: dist is built already, and a rebuild here would rewrite it under other tests.
  await run('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], { cwd: ROOT, env: ENV, timeout: 60_000 });
  const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
  assert.equal(tarball, `proxyctl-${VERSION}.tgz`);

  // --offline cannot work: installing a tarball resolves its dependencies from their registry
  // documents, which `npm ci` (lockfile-driven) never caches; the tarballs themselves come from
  // the cache.
  const prefix = join(dir, 'prefix');
  await run('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', join(dir, tarball)], { cwd: dir, env: ENV, timeout: 180_000 });
  const pkg = join(prefix, 'lib/node_modules/proxyctl');
  const files = readdirSync(pkg).sort();
  assert.deepEqual(files.filter((f) => !['node_modules', 'build'].includes(f)), ['README.md', 'bin', 'binding.gyp', 'config', 'dist', 'man', 'native', 'oclif.manifest.json', 'package.json', 'schema']);
  assert.deepEqual(readdirSync(join(pkg, 'dist')), ['src']);
  assert.deepEqual(readdirSync(join(prefix, 'share/man/man5')), ['proxyctl.yaml.5']);

  const bin = join(prefix, 'bin/proxyctl');
  // biome-ignore lint/suspicious/noExplicitAny: the test reads the fields of the command it ran, and asserts on them
  const cli = async (...args: string[]): Promise<{ stdout: string; json: any }> => {
    const { stdout } = await run(bin, args, { cwd: dir, env: ENV, timeout: 60_000 });
    return { stdout, json: args.includes('--json') ? JSON.parse(stdout) : null };
  };
  assert.match((await cli('--version')).stdout, new RegExp(`^proxyctl/${VERSION.replace(/\./g, '\\.')} `));

  const port = await freePort();
  const config = join(dir, 'proxyctl.yaml');
  writeFileSync(config, configYaml({ port, workers: 1, body: 'installed\n', strategy: 'immediate', drainTime: '200ms', parentShutdownTime: '1s' }));
  const common = ['--base-id', String(30_000 + (process.pid % 20_000)), '--runtime-dir', join(dir, 'run')];
  const started = await cli('start', '--daemon', '--config', config, ...common, '--json');
  const pid = started.json.pid as number;
  t.after(() => {
    if (processIsAlive(pid)) process.kill(pid, 'SIGKILL');
  });

  // The supervisor runs the installed copy, and every addon it and its epoch load (the only
  // files a process maps; its JavaScript is read) is the one node-gyp built in the prefix.
  const epochPid = (await cli('status', ...common, '--json')).json.epochs[0].pid as number;
  t.after(() => {
    if (processIsAlive(epochPid)) process.kill(epochPid, 'SIGKILL');
  });
  const addons = new Set<string>();
  const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  assert.ok(cmdline.some((a) => a.startsWith(pkg)), `the supervisor does not run the installed copy: ${cmdline.join(' ')}`);
  for (const p of [pid, epochPid]) {
    const mapped = readFileSync(`/proc/${p}/maps`, 'utf8');
    assert.ok(!mapped.includes(ROOT), `pid ${p} maps a file of the repo`);
    for (const m of mapped.matchAll(/(\/\S+\.node)$/gm)) addons.add(m[1]!);
  }
  const names = [...addons].map((a) => a.slice(a.lastIndexOf('/') + 1)).sort();
  assert.deepEqual(names, ['mmap_io.node', 'proxyctl_native.node', 'uwrap.node'].filter((n) => names.includes(n)));
  assert.ok(names.includes('mmap_io.node') && names.includes('proxyctl_native.node'), `addons loaded: ${[...addons].join(', ')}`);
  for (const a of addons) assert.ok(a.startsWith(pkg), `${a} is not the installed copy's`);

  const get = async (): Promise<string> => (await fetch(`http://127.0.0.1:${port}/`)).text();
  assert.equal(await get(), 'installed\n');
  await cli('reload', ...common);
  assert.equal(await get(), 'installed\n');
  assert.equal((await cli('status', ...common, '--json')).json.epochs.find((e: { state: string }) => e.state === 'active').epoch, 1);
  await cli('stop', '--now', ...common);
  assert.equal(processIsAlive(pid), false);
});
