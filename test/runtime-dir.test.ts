import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { resolveRuntimeDir, ensurePrivateDir, baseIdPaths } from '../src/runtime-dir.js';
import { isProxyctlError } from '../src/errors.js';
import { tempDir } from './helpers.js';

test('runtime dir precedence: flag > PROXYCTL_RUNTIME_DIR > XDG_RUNTIME_DIR > per-uid default', () => {
  const cases: Array<[Parameters<typeof resolveRuntimeDir>[0], string]> = [
    [{ flag: '/f', env: { PROXYCTL_RUNTIME_DIR: '/p', XDG_RUNTIME_DIR: '/x' }, uid: 1000 }, '/f'],
    [{ env: { PROXYCTL_RUNTIME_DIR: '/p', XDG_RUNTIME_DIR: '/x' }, uid: 1000 }, '/p'],
    [{ env: { XDG_RUNTIME_DIR: '/run/user/1000' }, uid: 1000 }, '/run/user/1000/proxyctl'],
    [{ env: {}, uid: 0 }, '/run/proxyctl'],
    [{ env: {}, uid: 1000 }, '/tmp/proxyctl-1000'],
    [{ flag: '', env: { PROXYCTL_RUNTIME_DIR: '' }, uid: 1000 }, '/tmp/proxyctl-1000'],
  ];
  for (const [inputs, want] of cases) assert.equal(resolveRuntimeDir(inputs), want, JSON.stringify(inputs));
});

test('base id paths stay inside a per-base-id directory', () => {
  assert.deepEqual(baseIdPaths('/r', 7), { dir: '/r/base-7', stats: '/r/base-7/stats', hotRestartSocket: '/r/base-7/hot-restart.sock', lock: '/r/base-7/supervisor.lock', log: '/r/base-7/proxyctl.log', adminSocket: '/r/base-7/admin.sock' });
  assert.throws(() => baseIdPaths('/r', -1), RangeError);
  assert.throws(() => baseIdPaths('/r', 1.5), RangeError);
});

test('the runtime dir is created 0700, and a dir open to others is refused', (t) => {
  const root = tempDir(t);
  const fresh = join(root, 'a', 'b');
  ensurePrivateDir(fresh);
  assert.equal(statSync(fresh).mode & 0o777, 0o700);
  const loose = join(root, 'loose');
  mkdirSync(loose);
  chmodSync(loose, 0o755);
  assert.throws(() => ensurePrivateDir(loose), (err: unknown) => isProxyctlError(err, 'PROXYCTL_ERR_RUNTIME_DIR'));
  assert.equal(statSync(loose).mode & 0o777, 0o755, 'left as it was for the operator to fix');
});
