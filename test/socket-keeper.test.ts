import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo } from 'node:net';
import { fstatSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import type { TestContext } from 'node:test';
import { SocketKeeper } from '../src/epoch/socket-keeper.js';
import { fixture, waitForOutput } from './helpers.js';
import { isProxyctlError } from '../src/errors.js';
import type { ListenerConfig } from '../src/config/types.js';

function listener(port: number): ListenerConfig {
  return { name: `l${port}`, address: { host: '127.0.0.1', port }, protocol: 'tcp', cluster: 'c' };
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen({ host: '127.0.0.1', port: 0 }, resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

function request(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = connect({ host: '127.0.0.1', port });
    let data = '';
    c.setEncoding('utf8');
    c.on('data', (d: string) => (data += d));
    c.once('end', () => resolve(data));
    c.once('error', reject);
  });
}

test('kept sockets queue connections while nobody accepts, and outlive each acceptor', async (t) => {
  const keeper = new SocketKeeper();
  t.after(() => keeper.closeAll());
  const port = await freePort();
  await keeper.ensure([listener(port)], 2);
  const fds = keeper.socketsFor([listener(port)]).map((s) => s.fd);
  assert.equal(fds.length, 2);

  // Nobody accepts yet: the connections wait in the kernel backlog instead of being refused.
  const early = Array.from({ length: 10 }, () => request(port));
  await new Promise((resolve) => setTimeout(resolve, 100));
  const first = spawnAcceptor(t, fds);
  await waitForOutput(first, 'accepting');
  for (const answer of await Promise.all(early)) assert.match(answer, new RegExp(`^${first.pid} [34]$`));

  // The acceptor dies; its copies close, the keeper's do not, and the next acceptor gets everything.
  const gone = new Promise((resolve) => first.once('exit', resolve));
  first.kill('SIGKILL');
  await gone;
  const gap = Array.from({ length: 20 }, () => request(port));
  await new Promise((resolve) => setTimeout(resolve, 100));
  const second = spawnAcceptor(t, fds);
  await waitForOutput(second, 'accepting');
  const answers = await Promise.all(gap);
  for (const answer of answers) assert.match(answer, new RegExp(`^${second.pid} [34]$`));
  assert.equal(new Set(answers.map((a) => a.split(' ')[1])).size, 2, 'both worker-slot sockets received connections');
});

/** Stands in for an epoch: a process that inherits the sockets as fds 3, 4, … and accepts. */
function spawnAcceptor(t: TestContext, fds: number[]): ChildProcess {
  const child = spawn(process.execPath, [fixture('fd-acceptor'), String(fds.length)], { stdio: ['ignore', 'pipe', 'inherit', ...fds] });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return child;
}

test('a port somebody else listens on is refused, and nothing is left bound', async (t) => {
  const other = createServer();
  await new Promise<void>((resolve) => other.listen({ host: '127.0.0.1', port: 0 }, resolve));
  t.after(() => other.close());
  const taken = (other.address() as AddressInfo).port;
  const free = await freePort();
  const keeper = new SocketKeeper();
  await assert.rejects(keeper.ensure([listener(free), listener(taken)], 2), (err: unknown) => isProxyctlError(err, 'PROXYCTL_ERR_LISTEN'));
  assert.equal(keeper.size, 0);
});

test('release closes only the addresses no config keeps', async () => {
  const keeper = new SocketKeeper();
  const [a, b] = [await freePort(), await freePort()];
  await keeper.ensure([listener(a), listener(b)], 1);
  const fdB = keeper.socketsFor([listener(b)])[0]?.fd;
  assert.ok(fdB !== undefined);
  keeper.release([[listener(a)]]);
  assert.equal(keeper.size, 1);
  assert.throws(() => fstatSync(fdB), (err: NodeJS.ErrnoException) => err.code === 'EBADF');
  await keeper.ensure([listener(a)], 3);
  assert.equal(keeper.size, 3, 'more slots are added to a kept address without a probe');
  keeper.closeAll();
  assert.equal(keeper.size, 0);
});
