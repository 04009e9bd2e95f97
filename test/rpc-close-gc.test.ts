/**
 * A closed RPC socket must survive a garbage collection before libuv has finished closing it
 * (src/uds-rpc/usocket.ts). The child forces one after every close; without the fix it aborts
 * (SIGABRT in uv__finish_close or uv_poll_stop) within a few rounds.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensurePrivateDir } from '../src/runtime-dir.js';
import { socketPath } from './fixtures/rpc-util.js';

test('closing RPC servers and connections with a garbage collection right after never aborts', async (t) => {
  const path = socketPath(t);
  ensurePrivateDir(dirname(path));
  const child = spawn(process.execPath, ['--expose-gc', fileURLToPath(new URL('./fixtures/rpc-close-gc-child.js', import.meta.url)), path, '60'], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('exit', (c, s) => resolve([c, s])));
  assert.deepEqual({ code, signal }, { code: 0, signal: null });
  assert.equal(out, 'survived 60\n');
});
