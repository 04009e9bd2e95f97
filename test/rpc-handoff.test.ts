/**
 * The reason the RPC exists: a listening TCP socket moves from one process to another with
 * SCM_RIGHTS, and after the sender stops accepting, every connection reaches the receiver.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type AddressInfo, type Server } from 'node:net';
import { exited, forkFixture, nextMessage, socketPath, startServer } from './fixtures/rpc-util.js';

function listenLocal(): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => socket.end('parent\n'));
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => resolve(server));
  });
}

/** The fd under a listening net.Server; Node keeps it on an internal handle. */
function listeningFd(server: Server): number {
  const handle: unknown = (server as unknown as { _handle?: unknown })._handle;
  const fd = typeof handle === 'object' && handle !== null ? (handle as { fd?: unknown }).fd : undefined;
  if (typeof fd !== 'number' || fd < 0) throw new Error('net.Server has no fd');
  return fd;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Opens one TCP connection and resolves with what the acceptor wrote (its pid), or rejects. */
function ask(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let answer = '';
    const socket = connect({ host: '127.0.0.1', port });
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.once('error', reject);
    socket.once('end', () => resolve(answer.trim()));
  });
}

test('a listening TCP socket handed over RPC keeps accepting in the child after the parent stops', async (t) => {
  const path = socketPath(t);
  const tcp = await listenLocal();
  const port = (tcp.address() as AddressInfo).port;
  const fd = listeningFd(tcp);
  await startServer(t, path, {
    getListenSockets: () => ({ body: { type: 'getListenSockets', sockets: [{ kind: 'listener', name: 'main', address: `127.0.0.1:${port}`, slot: 0, fdIndex: 0 }] }, fds: [fd] }),
  });

  const child = forkFixture(t, 'rpc-listen-child', [path]);
  const ready = await nextMessage(child);
  assert.deepEqual(ready, { ready: true, sockets: [{ kind: 'listener', name: 'main', address: `127.0.0.1:${port}`, slot: 0, fdIndex: 0 }], fds: 1 });

  // The parent stops accepting and closes its copy of the fd; only the child's copy remains.
  await closeServer(tcp);

  const answers = await Promise.all(Array.from({ length: 40 }, () => ask(port)));
  assert.equal(answers.length, 40);
  for (const answer of answers) assert.equal(answer, String(child.pid));

  child.send('stop');
  await exited(child);
  assert.equal(child.exitCode, 0);
});
