/**
 * The hot-restart RPC: request/response over a stream Unix-domain socket, with file
 * descriptors attached. It is the only way listening sockets move between processes
 * (supervisor → epochs). Interfaces live here; framing.ts documents the wire format,
 * messages.ts the vocabulary, and connection.ts / server.ts / client.ts implement them.
 */
import type { ProxyctlError } from '../errors.js';
import type { HelloMessage, PeerRole, ReplyOf, RequestOf, RequestType, RpcRequest } from './messages.js';

/** What the kernel says about the process at the other end (SO_PEERCRED; Linux only). */
export interface PeerCredentials {
  pid: number;
  uid: number;
  gid: number;
}

/** A reply (or request) as received: the validated body and the fds that came with it. */
export interface RpcReceived<T> {
  body: T;
  /** Received with the message and now owned by the receiver, who must close them. */
  fds: number[];
}

/** What a handler answers. The fds are duplicated into the peer; the handler keeps its own. */
export interface RpcResult<T> {
  body: T;
  fds?: readonly number[];
}

export interface RequestOptions {
  /** Deadline for the reply in milliseconds (default `DEFAULT_REQUEST_TIMEOUT_MS`). */
  timeoutMs?: number;
  /** fds to send with the request; the caller keeps its own copies. */
  fds?: readonly number[];
}

/** Passed to every handler call. */
export interface RequestContext {
  readonly connection: RpcConnection;
  /** fds that came with the request; the handler owns them and must close what it does not keep. */
  readonly fds: number[];
}

/**
 * Answers one request type. Throwing (or rejecting) sends an error reply: the requester gets
 * PROXYCTL_ERR_RPC_REMOTE with this side's error code in `details.remoteCode`.
 */
export type RpcHandler<K extends RequestType> = (request: RequestOf<K>, context: RequestContext) => RpcResult<ReplyOf<K>> | Promise<RpcResult<ReplyOf<K>>>;

/**
 * One optional handler per request type. A type without a handler is answered "unrecognized"
 * (never dropped). `hello` is not here: the server answers it itself.
 */
export type RpcHandlers = { [K in Exclude<RequestType, 'hello'>]?: RpcHandler<K> };

/** The facts a side states in its hello; versions default to this build's and are overridden only by tests. */
export interface HelloFacts {
  role: PeerRole;
  /** This process's epoch number, or -1 for the supervisor and the CLI. */
  epoch: number;
  pid?: number;
  protocolVersion?: number;
  statsLayoutVersion?: number;
}

/**
 * One established connection; either side may send requests on it.
 *
 * Closing: when the socket closes for any reason (peer exit, read error, protocol error,
 * `close()`), every pending request is rejected at once with the close reason, and the
 * 'close' listeners run once with it. The reason's code is PROXYCTL_ERR_RPC_PROTOCOL when this
 * side found a wire-format violation, PROXYCTL_ERR_HOT_RESTART_VERSION or
 * PROXYCTL_ERR_RPC_PEER_CREDENTIALS when the handshake refused the peer, and
 * PROXYCTL_ERR_RPC_CLOSED otherwise.
 */
export interface RpcConnection {
  /** The peer's hello, once exchanged (null before, and on the raw connection inside the handshake). */
  readonly peer: HelloMessage | null;
  /** The peer's kernel credentials, or null where SO_PEERCRED is not available. */
  readonly peerCredentials: PeerCredentials | null;
  /** Requests sent and not yet answered, timed out or rejected. */
  readonly pendingCount: number;
  readonly closed: boolean;
  /**
   * Sends a request and resolves with the validated reply and its fds. Rejects with
   * PROXYCTL_ERR_RPC_TIMEOUT (deadline passed; a late reply is discarded and its fds closed),
   * PROXYCTL_ERR_RPC_UNRECOGNIZED (the peer has no handler for this type),
   * PROXYCTL_ERR_RPC_REMOTE (the peer's handler failed), or the close reason.
   */
  request<M extends RpcRequest>(message: M, options?: RequestOptions): Promise<RpcReceived<ReplyOf<M['type']>>>;
  /** Closes the socket now; pending requests reject with PROXYCTL_ERR_RPC_CLOSED. Idempotent. */
  close(): void;
  /** Runs `listener` once when the connection closes (at once if it already has). */
  onClose(listener: (reason: ProxyctlError) => void): void;
}

export interface RpcServerOptions {
  /** Socket path; its parent directory is created or checked with ensurePrivateDir (0700). */
  path: string;
  /** This side's hello facts, sent back in every hello reply. */
  hello: HelloFacts;
  handlers: RpcHandlers;
  /** uid peers must have (default: our effective uid). For tests of the refusal path. */
  expectedPeerUid?: number;
  /** How long an accepted connection may take to say hello (default 5 s). */
  helloTimeoutMs?: number;
}

/** Listens on a Unix-domain socket and serves every peer that passes the handshake. */
export interface RpcServer {
  readonly path: string;
  /** Connections that completed hello and are still open. */
  readonly connections: ReadonlySet<RpcConnection>;
  /**
   * Removes a stale socket file, listens, chmods the socket 0600. Rejects with
   * PROXYCTL_ERR_RUNTIME_DIR if the directory is unsafe or another server is live on the path.
   */
  listen(): Promise<void>;
  /** Stops listening, closes every connection and removes the socket file. */
  close(): void;
  /** A peer completed hello; requests may now flow both ways. */
  on(event: 'connection', listener: (connection: RpcConnection) => void): this;
  /** A peer was turned away before or during hello (credentials, versions, protocol, silence). */
  on(event: 'refused', listener: (reason: ProxyctlError) => void): this;
  /**
   * The listening socket failed (usocket closes it on any accept error, EMFILE included) and
   * no further peers will be accepted; established connections stay open. Like every Node
   * 'error' event, it throws if nobody listens.
   */
  on(event: 'error', listener: (err: ProxyctlError) => void): this;
}

export interface ConnectOptions {
  /** Handlers for requests the server sends us (later: drain, terminate). */
  handlers?: RpcHandlers;
  /** Deadline for connect plus hello, in milliseconds (default 5 s). */
  timeoutMs?: number;
  /** uid the server must have (default: our effective uid). For tests of the refusal path. */
  expectedPeerUid?: number;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;
