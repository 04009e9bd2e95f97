/** Wire-format violations over a real socket: the receiver refuses, closes, and leaks no fd. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { isProxyctlError } from '../src/errors.js';
import { connectRpc } from '../src/uds-rpc/index.js';
import { FrameKind, MAX_PAYLOAD_BYTES } from '../src/uds-rpc/framing.js';
import { RawPeer, nextRefusal, openFdCount, rawFrame, rawHeader, socketPath, startServer } from './fixtures/rpc-util.js';
import { ensurePrivateDir } from '../src/runtime-dir.js';
import { dirname } from 'node:path';

const hello = { type: 'hello', protocolVersion: 1, statsLayoutVersion: 1, role: 'epoch', epoch: 1, pid: process.pid };

test('a frame announcing more than the maximum payload is refused and the connection closed', async (t) => {
  const path = socketPath(t);
  const server = await startServer(t, path, {});
  const refused = nextRefusal(server);
  const peer = await RawPeer.connect(path);
  t.after(() => peer.destroy());
  // 1 GiB announced, a little sent: the server must not wait for (or buffer) the rest.
  peer.write(Buffer.concat([rawHeader(1024 ** 3, FrameKind.REQUEST, 0, 1), Buffer.alloc(4096, 0x61)]));
  const reason = await refused;
  assert.equal(reason.code, 'PROXYCTL_ERR_RPC_PROTOCOL');
  assert.equal(reason.details.reason, 'oversized');
  await peer.ended;
});

test('connectRpc refuses an oversized reply from a misbehaving server', async (t) => {
  const path = socketPath(t);
  ensurePrivateDir(dirname(path));
  const liar: Server = createServer((socket: Socket) => {
    socket.once('data', () => socket.write(rawHeader(MAX_PAYLOAD_BYTES + 1, FrameKind.RESPONSE, 0, 1)));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => liar.listen(path, resolve));
  t.after(() => liar.close());
  await assert.rejects(connectRpc(path, { role: 'epoch', epoch: 1 }, { timeoutMs: 2_000 }), (err: unknown) => isProxyctlError(err, 'PROXYCTL_ERR_RPC_PROTOCOL'));
});

test('a frame announcing an fd that was not attached is a protocol error', async (t) => {
  const path = socketPath(t);
  const server = await startServer(t, path, {});
  const refused = nextRefusal(server);
  const peer = await RawPeer.connect(path);
  t.after(() => peer.destroy());
  peer.write(rawFrame(FrameKind.REQUEST, 1, hello, 1));
  const reason = await refused;
  assert.equal(reason.code, 'PROXYCTL_ERR_RPC_PROTOCOL');
  assert.equal(reason.details.reason, 'fd-count');
  await peer.ended;
});

test('an fd attached to a frame that announced none is a protocol error, and the fd is closed', async (t) => {
  const path = socketPath(t);
  const server = await startServer(t, path, {});
  const file = openSync(process.execPath, 'r');
  t.after(() => closeSync(file));
  const before = openFdCount();
  const refused = nextRefusal(server);
  const peer = await RawPeer.connect(path);
  peer.write(rawFrame(FrameKind.REQUEST, 1, hello, 0), [file]);
  const reason = await refused;
  assert.equal(reason.code, 'PROXYCTL_ERR_RPC_PROTOCOL');
  assert.equal(reason.details.reason, 'fd-count');
  await peer.ended;
  peer.destroy();
  // The server's copy of `file` (and both socket ends) are gone: back to where we started.
  assert.equal(openFdCount(), before);
});

test('requests before hello are refused and the connection closed', async (t) => {
  const path = socketPath(t);
  const server = await startServer(t, path, { ping: () => ({ body: { type: 'ping', pid: process.pid } }) });
  const refused = nextRefusal(server);
  const peer = await RawPeer.connect(path);
  t.after(() => peer.destroy());
  peer.write(rawFrame(FrameKind.REQUEST, 1, { type: 'ping' }, 0));
  assert.equal((await refused).code, 'PROXYCTL_ERR_RPC_PROTOCOL');
  await peer.ended;
});

test('a payload that is not JSON is a protocol error', async (t) => {
  const path = socketPath(t);
  const server = await startServer(t, path, {});
  const refused = nextRefusal(server);
  const peer = await RawPeer.connect(path);
  t.after(() => peer.destroy());
  peer.write(Buffer.concat([rawHeader(3, FrameKind.REQUEST, 0, 1), Buffer.from('{{{')]));
  assert.equal((await refused).code, 'PROXYCTL_ERR_RPC_PROTOCOL');
  await peer.ended;
});
