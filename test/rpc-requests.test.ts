/** Request lifecycle: deadlines, peer death, unrecognized types, remote errors, versions. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync } from 'node:fs';
import { ProxyctlError, isProxyctlError } from '../src/errors.js';
import { PROTOCOL_VERSION, STATS_LAYOUT_VERSION, connectRpc, type RpcConnection, type RpcRequest, type RpcResult, type PingReply, type ListenSocketsReply } from '../src/uds-rpc/index.js';
import { exited, forkFixture, nextMessage, nextRefusal, openFdCount, sleep, socketPath, startServer } from './fixtures/rpc-util.js';

const epochHello = { role: 'epoch', epoch: 1 } as const;

function pong(): RpcResult<PingReply> {
  return { body: { type: 'ping', pid: process.pid } };
}

function neverAnswer(): Promise<RpcResult<PingReply>> {
  return new Promise(() => undefined);
}

async function connect(t: import('node:test').TestContext, path: string): Promise<RpcConnection> {
  const conn = await connectRpc(path, epochHello);
  t.after(() => conn.close());
  return conn;
}

test('a request whose handler never answers times out and leaves nothing pending', async (t) => {
  const path = socketPath(t);
  await startServer(t, path, { ping: neverAnswer });
  const conn = await connect(t, path);
  const started = Date.now();
  await assert.rejects(conn.request({ type: 'ping' }, { timeoutMs: 150 }), (err: unknown) => isProxyctlError(err, 'PROXYCTL_ERR_RPC_TIMEOUT'));
  assert.ok(Date.now() - started >= 140);
  assert.equal(conn.pendingCount, 0);
  assert.equal(conn.closed, false);
});

test('a late reply is discarded and the fds it carries are closed', async (t) => {
  const path = socketPath(t);
  const handedFd = openSync(process.execPath, 'r');
  t.after(() => closeSync(handedFd));
  async function lateSockets(): Promise<RpcResult<ListenSocketsReply>> {
    await sleep(200);
    return { body: { type: 'getListenSockets', sockets: [{ kind: 'listener', name: 'late', address: 'x', slot: 0, fdIndex: 0 }] }, fds: [handedFd] };
  }
  await startServer(t, path, { getListenSockets: lateSockets, ping: pong });
  const conn = await connect(t, path);
  const before = openFdCount();
  await assert.rejects(conn.request({ type: 'getListenSockets' }, { timeoutMs: 50 }), (err: unknown) => isProxyctlError(err, 'PROXYCTL_ERR_RPC_TIMEOUT'));
  await sleep(250);
  // Replies arrive in order: once this ping is answered, the late reply has been handled.
  const reply = await conn.request({ type: 'ping' });
  assert.equal(reply.body.pid, process.pid);
  assert.equal(openFdCount(), before);
  assert.equal(conn.pendingCount, 0);
});

test('when the peer dies mid-request the request rejects with RPC_CLOSED at once', async (t) => {
  const path = socketPath(t);
  const server = await startServer(t, path, {});
  const connected = new Promise<RpcConnection>((resolve) => server.on('connection', resolve));
  const child = forkFixture(t, 'rpc-hang-child', [path]);
  const conn = await connected;
  assert.equal(conn.peer?.pid, child.pid);

  const gotPing = nextMessage(child).then(() => nextMessage(child)); // 'connected', then 'got-ping'
  const pending = conn.request({ type: 'ping' }, { timeoutMs: 10_000 });
  await gotPing;
  const killedAt = Date.now();
  child.kill('SIGKILL');
  await assert.rejects(pending, (err: unknown) => isProxyctlError(err, 'PROXYCTL_ERR_RPC_CLOSED'));
  assert.ok(Date.now() - killedAt < 1_500, 'rejected long before the 10 s deadline');
  assert.equal(conn.pendingCount, 0);
  assert.equal(conn.closed, true);
  await exited(child);
});

test('an unknown message type gets an explicit unrecognized reply', async (t) => {
  const path = socketPath(t);
  await startServer(t, path, { ping: pong });
  const conn = await connect(t, path);
  const unknown = { type: 'frobnicate' } as unknown as RpcRequest;
  await assert.rejects(conn.request(unknown, { timeoutMs: 2_000 }), (err: unknown) => isProxyctlError(err, 'PROXYCTL_ERR_RPC_UNRECOGNIZED'));
  // A known type this server has no handler for is unrecognized too.
  await assert.rejects(conn.request({ type: 'getListenSockets' }, { timeoutMs: 2_000 }), (err: unknown) => isProxyctlError(err, 'PROXYCTL_ERR_RPC_UNRECOGNIZED'));
  // The connection stays usable.
  assert.equal((await conn.request({ type: 'ping' })).body.pid, process.pid);
});

test('a handler that throws produces PROXYCTL_ERR_RPC_REMOTE with the remote code', async (t) => {
  const path = socketPath(t);
  await startServer(t, path, {
    ping: () => {
      throw new ProxyctlError('PROXYCTL_ERR_SHM_FULL', 'no room');
    },
  });
  const conn = await connect(t, path);
  await assert.rejects(conn.request({ type: 'ping' }), (err: unknown) => isProxyctlError(err, 'PROXYCTL_ERR_RPC_REMOTE') && err.details.remoteCode === 'PROXYCTL_ERR_SHM_FULL');
});

test('requests flow from the server to the client on the same connection', async (t) => {
  const path = socketPath(t);
  const server = await startServer(t, path, {});
  const connected = new Promise<RpcConnection>((resolve) => server.on('connection', resolve));
  const client = await connectRpc(path, epochHello, { handlers: { ping: pong } });
  t.after(() => client.close());
  const serverSide = await connected;
  assert.equal((await serverSide.request({ type: 'ping' })).body.pid, process.pid);
});

test('an incompatible version is refused with HOT_RESTART_VERSION and the server keeps serving', async (t) => {
  const path = socketPath(t);
  const server = await startServer(t, path, { ping: pong });
  const refused = nextRefusal(server);
  await assert.rejects(connectRpc(path, { ...epochHello, protocolVersion: PROTOCOL_VERSION + 1 }), (err: unknown) => isProxyctlError(err, 'PROXYCTL_ERR_HOT_RESTART_VERSION'));
  assert.equal((await refused).code, 'PROXYCTL_ERR_HOT_RESTART_VERSION');
  await assert.rejects(connectRpc(path, { ...epochHello, statsLayoutVersion: STATS_LAYOUT_VERSION + 1 }), (err: unknown) => {
    return isProxyctlError(err, 'PROXYCTL_ERR_HOT_RESTART_VERSION') && typeof err.details.difference === 'string';
  });
  const conn = await connect(t, path);
  assert.equal((await conn.request({ type: 'ping' })).body.pid, process.pid);
  assert.equal(server.connections.size, 1);
});

test('connecting where nobody listens is RPC_UNREACHABLE', async (t) => {
  const path = socketPath(t);
  await assert.rejects(connectRpc(path, epochHello), (err: unknown) => isProxyctlError(err, 'PROXYCTL_ERR_RPC_UNREACHABLE'));
});

test('closing a connection rejects its pending requests with RPC_CLOSED', async (t) => {
  const path = socketPath(t);
  await startServer(t, path, { ping: neverAnswer });
  const conn = await connect(t, path);
  const pending = [conn.request({ type: 'ping' }), conn.request({ type: 'ping' })];
  conn.close();
  for (const p of pending) await assert.rejects(p, (err: unknown) => isProxyctlError(err, 'PROXYCTL_ERR_RPC_CLOSED'));
  await assert.rejects(conn.request({ type: 'ping' }), (err: unknown) => isProxyctlError(err, 'PROXYCTL_ERR_RPC_CLOSED'));
});
