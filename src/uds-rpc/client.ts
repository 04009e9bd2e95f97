/**
 * connectRpc: connect to an RpcServer's socket, check the server's uid, exchange hellos.
 * Resolves only with a connection both sides have agreed to use.
 */
import { USocket, closeOnExec } from './usocket.js';
import { ProxyctlError, errnoCode, isProxyctlError } from '../errors.js';
import { UsocketRpcConnection } from './connection.js';
import { HandlerRouter } from './dispatch.js';
import { isJsonObject } from './messages.js';
import { describeIncompatibility, helloMessage } from './versions.js';
import { checkPeerCredentials, ourUid } from './peercred.js';
import type { ConnectOptions, HelloFacts, PeerCredentials, RpcConnection } from './types.js';

const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

/** Opens the socket. ENOENT / ECONNREFUSED (nobody listens) become PROXYCTL_ERR_RPC_UNREACHABLE. */
function openSocket(path: string, timeoutMs: number): Promise<USocket> {
  return new Promise((resolve, reject) => {
    const socket = new USocket();
    let settled = false;
    // A full backlog makes connect(2) block (in usocket's thread pool) with no timeout of its own.
    const timer = setTimeout(() => {
      settled = true;
      reject(new ProxyctlError('PROXYCTL_ERR_RPC_TIMEOUT', `connecting to ${path} took longer than ${timeoutMs} ms`, { path, timeoutMs }));
    }, timeoutMs);
    socket.once('error', (err: Error) => {
      clearTimeout(timer);
      if (settled) return;
      settled = true;
      reject(new ProxyctlError('PROXYCTL_ERR_RPC_UNREACHABLE', `cannot connect to ${path}: ${err.message}`, { path, errno: errnoCode(err) }, { cause: err }));
    });
    socket.once('connected', () => {
      clearTimeout(timer);
      if (settled) socket.destroy();
      else {
        settled = true;
        closeOnExec(socket.fd);
        resolve(socket);
      }
    });
    socket.connect(path);
  });
}

/** A refusal the server explained (versions) is reported with the server's own code. */
function translateHelloError(err: unknown): unknown {
  if (!isProxyctlError(err, 'PROXYCTL_ERR_RPC_REMOTE') || err.details.remoteCode !== 'PROXYCTL_ERR_HOT_RESTART_VERSION') return err;
  const remote = err.details.remoteDetails;
  return new ProxyctlError('PROXYCTL_ERR_HOT_RESTART_VERSION', `the server refused us (its versions vs ours): ${String(err.details.remoteMessage)}`, isJsonObject(remote) ? { ...remote } : {}, { cause: err });
}

/**
 * Connects to `path`, checks the server's uid (SO_PEERCRED, see peercred.ts), sends our hello
 * and checks the server's. Rejects with PROXYCTL_ERR_RPC_UNREACHABLE, _RPC_TIMEOUT,
 * _RPC_PEER_CREDENTIALS, _HOT_RESTART_VERSION, _RPC_PROTOCOL or _RPC_CLOSED.
 */
export async function connectRpc(path: string, hello: HelloFacts, options: ConnectOptions = {}): Promise<RpcConnection> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const startedAt = Date.now();
  const socket = await openSocket(path, timeoutMs);
  let creds: PeerCredentials | null;
  try {
    creds = checkPeerCredentials(socket.fd, options.expectedPeerUid ?? ourUid());
  } catch (err: unknown) {
    socket.destroy();
    throw err;
  }
  const conn = new UsocketRpcConnection(socket, new HandlerRouter(options.handlers ?? {}), creds);
  const ours = helloMessage(hello);
  try {
    const reply = await conn.request(ours, { timeoutMs: Math.max(1, timeoutMs - (Date.now() - startedAt)) });
    // The server checks too; checking here as well keeps an older server from being trusted.
    const difference = describeIncompatibility(ours, reply.body);
    if (difference !== null) {
      throw new ProxyctlError('PROXYCTL_ERR_HOT_RESTART_VERSION', `incompatible hot-restart server (pid ${reply.body.pid}): ${difference} (ours vs theirs)`, { difference });
    }
    conn.peer = reply.body;
    return conn;
  } catch (err: unknown) {
    const reason = translateHelloError(err);
    conn.fail(reason instanceof ProxyctlError ? reason : new ProxyctlError('PROXYCTL_ERR_RPC_CLOSED', String(reason), {}, { cause: reason }));
    throw reason;
  }
}
