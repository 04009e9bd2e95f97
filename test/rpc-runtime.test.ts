/** Where the socket lives and who may talk to it: modes, stale files, peer uid. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { UServer } from '../src/uds-rpc/usocket.js';
import { isProxyctlError } from '../src/errors.js';
import { ensurePrivateDir } from '../src/runtime-dir.js';
import { connectRpc, createRpcServer, peerCredentialsSupported } from '../src/uds-rpc/index.js';
import { nextRefusal, socketPath, startServer } from './fixtures/rpc-util.js';

const epochHello = { role: 'epoch', epoch: 1 } as const;

test('the socket is 0600 inside a 0700 directory', async (t) => {
  const path = socketPath(t);
  await startServer(t, path, {});
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.equal(statSync(dirname(path)).mode & 0o777, 0o700);
  assert.ok(statSync(path).isSocket());
});

test('a stale socket file is replaced; a live one or a non-socket is not', async (t) => {
  const path = socketPath(t);
  ensurePrivateDir(dirname(path));
  // usocket's UServer does not unlink on close, which is exactly how a crashed server leaves one.
  const dead = new UServer();
  await new Promise<void>((resolve) => dead.listen(path, resolve));
  dead.close();
  assert.ok(statSync(path).isSocket());

  const server = await startServer(t, path, { ping: () => ({ body: { type: 'ping', pid: process.pid } }) });
  const conn = await connectRpc(path, epochHello);
  t.after(() => conn.close());

  const second = createRpcServer({ path, hello: { role: 'supervisor', epoch: -1 }, handlers: {} });
  await assert.rejects(second.listen(), (err: unknown) => isProxyctlError(err, 'PROXYCTL_ERR_RUNTIME_DIR'));
  assert.equal((await conn.request({ type: 'ping' })).body.pid, process.pid, 'the first server still serves');
  server.close();

  writeFileSync(path, 'not a socket');
  const third = createRpcServer({ path, hello: { role: 'supervisor', epoch: -1 }, handlers: {} });
  await assert.rejects(third.listen(), (err: unknown) => isProxyctlError(err, 'PROXYCTL_ERR_RUNTIME_DIR'));
});

test('a peer with another uid is refused on both sides', { skip: !peerCredentialsSupported() && 'SO_PEERCRED addon not available' }, async (t) => {
  const path = socketPath(t);
  const uid = process.geteuid?.() ?? 0;
  const strict = await startServer(t, path, {}, { expectedPeerUid: uid + 1 });
  const refused = nextRefusal(strict);
  await assert.rejects(connectRpc(path, epochHello, { timeoutMs: 2_000 }), (err: unknown) => isProxyctlError(err, 'PROXYCTL_ERR_RPC_CLOSED'));
  assert.equal((await refused).code, 'PROXYCTL_ERR_RPC_PEER_CREDENTIALS');

  const otherPath = socketPath(t);
  await startServer(t, otherPath, {});
  await assert.rejects(connectRpc(otherPath, epochHello, { expectedPeerUid: uid + 1 }), (err: unknown) => isProxyctlError(err, 'PROXYCTL_ERR_RPC_PEER_CREDENTIALS'));
});

test('an accepted connection carries the peer credentials', { skip: !peerCredentialsSupported() && 'SO_PEERCRED addon not available' }, async (t) => {
  const path = socketPath(t);
  const server = await startServer(t, path, {});
  const accepted = new Promise<import('../src/uds-rpc/index.js').RpcConnection>((resolve) => server.on('connection', resolve));
  const conn = await connectRpc(path, epochHello);
  t.after(() => conn.close());
  assert.deepEqual(conn.peerCredentials, { pid: process.pid, uid: process.geteuid?.(), gid: process.getegid?.() });
  assert.equal((await accepted).peerCredentials?.pid, process.pid);
});
