/**
 * RpcServer: listens with usocket's UServer on a path inside the base id's private runtime
 * directory, checks each peer's uid, and gates every connection on a compatible hello.
 */
import { EventEmitter } from 'node:events';
import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { dirname } from 'node:path';
import { UServer, closeOnExec, type USocket } from './usocket.js';
import { ProxyctlError, errnoCode } from '../errors.js';
import { ensurePrivateDir } from '../runtime-dir.js';
import { closeFds } from './framing.js';
import { UsocketRpcConnection } from './connection.js';
import { errorReply, routeToHandlers, type IncomingRequest, type OutgoingReply, type RequestRouter } from './dispatch.js';
import type { HelloMessage } from './messages.js';
import { METHODS } from './validate.js';
import { compatibilityString, describeIncompatibility, helloMessage } from './versions.js';
import { checkPeerCredentials, ourUid } from './peercred.js';
import type { PeerCredentials, RpcConnection, RpcHandlers, RpcServer, RpcServerOptions } from './types.js';

const DEFAULT_HELLO_TIMEOUT_MS = 5_000;

function onHelloDeadline(connection: UsocketRpcConnection, timeoutMs: number): void {
  if (connection.peer !== null) return;
  connection.fail(new ProxyctlError('PROXYCTL_ERR_RPC_TIMEOUT', `peer sent no hello within ${timeoutMs} ms`, { reason: 'no-hello', timeoutMs }));
}

/** The server's router: hello first, then the handler table. One per connection. */
class HelloGate implements RequestRouter<UsocketRpcConnection> {
  constructor(
    private readonly server: UsocketRpcServer,
    private readonly ours: HelloMessage,
    private readonly handlers: RpcHandlers,
  ) {}

  route(request: IncomingRequest, conn: UsocketRpcConnection): OutgoingReply | Promise<OutgoingReply> {
    if (request.type === 'hello') return this.hello(request, conn);
    if (conn.peer === null) {
      closeFds(request.fds);
      const refusal = new ProxyctlError('PROXYCTL_ERR_RPC_PROTOCOL', `request ${request.type} before hello`, { reason: 'no-hello', type: request.type });
      return { ...errorReply(refusal), closeAfter: refusal };
    }
    return routeToHandlers(this.handlers, request, conn);
  }

  private hello(request: IncomingRequest, conn: UsocketRpcConnection): OutgoingReply {
    if (conn.peer !== null) {
      closeFds(request.fds);
      return errorReply(new ProxyctlError('PROXYCTL_ERR_RPC_PROTOCOL', 'hello sent twice', { reason: 'duplicate-hello' }));
    }
    let theirs: HelloMessage;
    try {
      theirs = METHODS.hello.request(request.message, request.fds.length);
    } catch (err: unknown) {
      closeFds(request.fds);
      const reason = err instanceof ProxyctlError ? err : new ProxyctlError('PROXYCTL_ERR_RPC_PROTOCOL', String(err));
      return { ...errorReply(reason), closeAfter: reason };
    }
    const difference = describeIncompatibility(this.ours, theirs);
    if (difference !== null) {
      const refusal = new ProxyctlError('PROXYCTL_ERR_HOT_RESTART_VERSION', `incompatible hot-restart peer (pid ${theirs.pid}): ${difference} (ours vs theirs; we are ${compatibilityString(this.ours)})`, {
        ours: { protocolVersion: this.ours.protocolVersion, statsLayoutVersion: this.ours.statsLayoutVersion },
        theirs: { protocolVersion: theirs.protocolVersion, statsLayoutVersion: theirs.statsLayoutVersion },
        difference,
        // Who was refused, so a supervisor can fail that epoch's start with this reason.
        pid: theirs.pid,
        epoch: theirs.epoch,
      });
      this.server.refusals.set(conn, refusal);
      return { ...errorReply(refusal), closeAfter: refusal };
    }
    conn.peer = theirs;
    return { payload: { status: 'ok', body: this.ours }, onQueued: () => this.server.established(conn) };
  }
}

export class UsocketRpcServer extends EventEmitter implements RpcServer {
  readonly path: string;
  private readonly greeted = new Set<RpcConnection>();
  private readonly all = new Set<UsocketRpcConnection>();
  /** Why the hello gate turned a connection away; reported instead of however the socket then closed. */
  readonly refusals = new WeakMap<UsocketRpcConnection, ProxyctlError>();
  private readonly ours: HelloMessage;
  private userver: UServer | null = null;
  /** True from a successful listen() until close(): the socket file is ours to remove. */
  private listened = false;

  constructor(private readonly options: RpcServerOptions) {
    super();
    this.path = options.path;
    this.ours = helloMessage(options.hello);
  }

  get connections(): ReadonlySet<RpcConnection> {
    return this.greeted;
  }

  async listen(): Promise<void> {
    if (this.listened) throw new Error('RpcServer.listen called twice');
    ensurePrivateDir(dirname(this.path));
    await removeStaleSocket(this.path);
    const userver = new UServer();
    userver.on('connection', this.onConnection);
    await new Promise<void>((resolve, reject) => {
      userver.once('error', reject);
      userver.listen(this.path, () => {
        userver.removeListener('error', reject);
        resolve();
      });
    });
    userver.on('error', this.onServerError);
    closeOnExec(userver.fd);
    this.userver = userver;
    this.listened = true;
    // Between bind and this chmod the socket has the umask's mode; the 0700 directory is what
    // keeps others out during that window.
    chmodSync(this.path, 0o600);
  }

  close(): void {
    this.userver?.close();
    this.userver = null;
    for (const conn of this.all) conn.close();
    if (!this.listened) return;
    this.listened = false;
    try {
      unlinkSync(this.path);
    } catch {
      // Already gone: nothing to clean.
    }
  }

  /** Called by the hello gate once the hello reply is queued. */
  established(conn: UsocketRpcConnection): void {
    if (conn.closed) return;
    this.greeted.add(conn);
    this.emit('connection', conn);
  }

  /** usocket closes its listening socket on any accept error (EMFILE included): we are deaf now. */
  private readonly onServerError = (err: Error): void => {
    this.userver = null;
    this.emit('error', new ProxyctlError('PROXYCTL_ERR_RPC_CLOSED', `the RPC server stopped accepting: ${err.message}`, { path: this.path, errno: errnoCode(err) }, { cause: err }));
  };

  private readonly onConnection = (socket: USocket): void => {
    closeOnExec(socket.fd);
    let creds: PeerCredentials | null;
    try {
      creds = checkPeerCredentials(socket.fd, this.options.expectedPeerUid ?? ourUid());
    } catch (err: unknown) {
      socket.destroy();
      this.emit('refused', err);
      return;
    }
    const conn = new UsocketRpcConnection(socket, new HelloGate(this, this.ours, this.options.handlers), creds);
    const helloTimeoutMs = this.options.helloTimeoutMs ?? DEFAULT_HELLO_TIMEOUT_MS;
    const timer = setTimeout(onHelloDeadline, helloTimeoutMs, conn, helloTimeoutMs);
    this.all.add(conn);
    conn.onClose((reason) => {
      clearTimeout(timer);
      this.all.delete(conn);
      if (!this.greeted.delete(conn)) this.emit('refused', this.refusals.get(conn) ?? reason);
    });
  };
}

/**
 * Removes a socket file left by a server that died, but never a live server's socket (that
 * would silently steal its path) and never a file that is not a socket.
 */
async function removeStaleSocket(path: string): Promise<void> {
  try {
    if (!lstatSync(path).isSocket()) {
      throw new ProxyctlError('PROXYCTL_ERR_RUNTIME_DIR', `${path} exists and is not a socket; refusing to replace it`, { path });
    }
  } catch (err: unknown) {
    if (errnoCode(err) === 'ENOENT') return;
    throw err;
  }
  const live = await new Promise<boolean>((resolve, reject) => {
    const probe = netConnect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', (err: Error) => {
      const code = errnoCode(err);
      if (code === 'ECONNREFUSED' || code === 'ENOENT') resolve(false);
      else reject(new ProxyctlError('PROXYCTL_ERR_RUNTIME_DIR', `cannot probe ${path}: ${err.message}`, { path, errno: code }, { cause: err }));
    });
  });
  if (live) throw new ProxyctlError('PROXYCTL_ERR_RUNTIME_DIR', `another process is listening on ${path}`, { path, reason: 'in-use' });
  try {
    unlinkSync(path);
  } catch (err: unknown) {
    if (errnoCode(err) !== 'ENOENT') throw err;
  }
}

/** Creates an RpcServer; call listen() on it. */
export function createRpcServer(options: RpcServerOptions): RpcServer {
  return new UsocketRpcServer(options);
}
