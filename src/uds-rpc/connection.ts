/**
 * RpcConnection over a usocket USocket: frames out, frames in, a Map of pending requests each
 * with its own deadline timer, fds paired to frames (see the wire format in framing.ts).
 */
import type { USocket, USocketWrite } from './usocket.js';
import { ProxyctlError, errnoCode } from '../errors.js';
import { FrameDecoder, FrameKind, closeFds, encodeJsonFrame, type DecodedFrame } from './framing.js';
import { isJsonObject, type HelloMessage, type JsonObject, type ReplyOf, type ReplyPayload, type RequestType, type RpcRequest } from './messages.js';
import { METHODS, validateReplyPayload } from './validate.js';
import { errorReply, type IncomingRequest, type OutgoingReply, type RequestRouter } from './dispatch.js';
import { DEFAULT_REQUEST_TIMEOUT_MS, type PeerCredentials, type RequestOptions, type RpcConnection, type RpcReceived } from './types.js';

interface PendingRequest {
  type: RequestType;
  timeoutMs: number;
  timer: NodeJS.Timeout;
  resolve: (reply: RpcReceived<object>) => void;
  reject: (err: ProxyctlError) => void;
}

const MAX_ID = 0xffff_ffff;
const MAX_TIMEOUT_MS = 0x7fff_ffff;

function protocolError(message: string, cause?: unknown): ProxyctlError {
  return new ProxyctlError('PROXYCTL_ERR_RPC_PROTOCOL', message, { reason: 'malformed-message' }, { cause });
}

/** Timer callback: a named function with arguments instead of a closure per request. */
function onRequestDeadline(connection: UsocketRpcConnection, id: number): void {
  connection.expireRequest(id);
}

export class UsocketRpcConnection implements RpcConnection {
  peer: HelloMessage | null = null;
  private readonly decoder = new FrameDecoder();
  private readonly pending = new Map<number, PendingRequest>();
  private readonly closeListeners: Array<(reason: ProxyctlError) => void> = [];
  private closeReason: ProxyctlError | null = null;
  private nextId = 1;

  constructor(
    private readonly socket: USocket,
    private readonly router: RequestRouter<UsocketRpcConnection>,
    readonly peerCredentials: PeerCredentials | null,
  ) {
    socket.on('error', this.onSocketError);
    socket.on('fds', this.onFds);
    socket.on('end', this.onEnd);
    // Flowing mode, attached only once connected (usocket resumes its poll on the first read).
    // In flowing mode usocket emits 'fds' and then 'data' for one recvmsg synchronously, in
    // that order, so the decoder always sees a frame's fds no later than its first byte.
    socket.on('data', this.onData);
  }

  get closed(): boolean {
    return this.closeReason !== null;
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  request<M extends RpcRequest>(message: M, options: RequestOptions = {}): Promise<RpcReceived<ReplyOf<M['type']>>> {
    if (this.closeReason !== null) {
      return Promise.reject(new ProxyctlError('PROXYCTL_ERR_RPC_CLOSED', `cannot send ${message.type}: connection is closed`, { type: message.type }, { cause: this.closeReason }));
    }
    const fds = options.fds ?? [];
    const timeoutMs = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    // setTimeout turns anything past 2^31-1 ms (or NaN) into 1 ms: a deadline must be a real one.
    if (!(timeoutMs > 0 && timeoutMs <= MAX_TIMEOUT_MS)) return Promise.reject(new RangeError(`timeoutMs must be from 1 to ${MAX_TIMEOUT_MS}, got ${timeoutMs}`));
    const id = this.allocateId();
    let frame: Buffer;
    try {
      frame = encodeJsonFrame(FrameKind.REQUEST, id, message, fds.length);
    } catch (err: unknown) {
      return Promise.reject(err);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(onRequestDeadline, timeoutMs, this, id);
      // The validator for message.type produced the body, so it is ReplyOf<M['type']>.
      this.pending.set(id, { type: message.type, timeoutMs, timer, resolve: resolve as (reply: RpcReceived<object>) => void, reject });
      this.send(frame, fds);
    });
  }

  close(): void {
    this.fail(new ProxyctlError('PROXYCTL_ERR_RPC_CLOSED', 'connection closed locally', { reason: 'local' }));
  }

  onClose(listener: (reason: ProxyctlError) => void): void {
    if (this.closeReason !== null) listener(this.closeReason);
    else this.closeListeners.push(listener);
  }

  /** The deadline of request `id` passed: forget it, so a late reply finds nothing to resolve. */
  expireRequest(id: number): void {
    const entry = this.pending.get(id);
    if (entry === undefined) return;
    this.pending.delete(id);
    entry.reject(new ProxyctlError('PROXYCTL_ERR_RPC_TIMEOUT', `${entry.type} request got no reply within ${entry.timeoutMs} ms`, { type: entry.type, id, timeoutMs: entry.timeoutMs }));
  }

  /**
   * Closes the socket and everything that depends on it, once. Pending requests reject with
   * `reason` (one error each, naming the request); received fds nobody claimed are closed.
   */
  fail(reason: ProxyctlError): void {
    if (this.closeReason !== null) return;
    this.closeReason = reason;
    this.socket.destroy();
    closeFds(this.decoder.takeUnclaimedFds());
    for (const [id, entry] of this.pending) {
      clearTimeout(entry.timer);
      entry.reject(new ProxyctlError(reason.code, `${entry.type} request #${id}: ${reason.message}`, { ...reason.details, type: entry.type }, { cause: reason }));
    }
    this.pending.clear();
    for (const listener of this.closeListeners.splice(0)) listener(reason);
  }

  private allocateId(): number {
    let id = this.nextId;
    // Skipping ids still pending matters only after 2^32 requests; it costs one lookup.
    while (this.pending.has(id)) id = id === MAX_ID ? 1 : id + 1;
    this.nextId = id === MAX_ID ? 1 : id + 1;
    return id;
  }

  private send(frame: Buffer, fds: readonly number[], afterWrite?: () => void): void {
    const chunk: USocketWrite = { data: frame };
    if (fds.length > 0) chunk.fds = [...fds];
    if (afterWrite) chunk.callback = afterWrite;
    this.socket.write(chunk, this.onWriteDone);
  }

  private readonly onWriteDone = (err?: Error | null): void => {
    if (err) this.fail(new ProxyctlError('PROXYCTL_ERR_RPC_CLOSED', `write failed: ${err.message}`, { errno: errnoCode(err) }, { cause: err }));
  };

  private readonly onSocketError = (err: Error): void => {
    this.fail(new ProxyctlError('PROXYCTL_ERR_RPC_CLOSED', `socket error: ${err.message}`, { errno: errnoCode(err) }, { cause: err }));
  };

  private readonly onEnd = (): void => {
    this.fail(new ProxyctlError('PROXYCTL_ERR_RPC_CLOSED', 'peer closed the connection', { reason: 'eof' }));
  };

  private readonly onFds = (): void => {
    // Take the fds out of usocket's own queue (it would otherwise grow forever) in arrival order.
    const taken = this.socket.read(0, null);
    if (taken === null || this.closeReason !== null) {
      if (taken) closeFds(taken.fds);
      return;
    }
    this.decoder.addFds(taken.fds);
    // fds that came with no bytes at all are caught here, after this read's data (if any) is in.
    queueMicrotask(this.checkStrayFds);
  };

  private readonly checkStrayFds = (): void => {
    if (this.closeReason !== null) return;
    try {
      this.decoder.checkStrayFds();
    } catch (err: unknown) {
      this.fail(err instanceof ProxyctlError ? err : protocolError(String(err), err));
    }
  };

  private readonly onData = (chunk: Buffer): void => {
    if (this.closeReason !== null) return;
    let frames: DecodedFrame[];
    try {
      frames = this.decoder.push(chunk);
    } catch (err: unknown) {
      this.fail(err instanceof ProxyctlError ? err : protocolError(String(err), err));
      return;
    }
    for (const frame of frames) {
      if (this.closeReason !== null) closeFds(frame.fds);
      else this.handleFrame(frame);
    }
  };

  private handleFrame(frame: DecodedFrame): void {
    let json: unknown;
    try {
      json = JSON.parse(frame.payload.toString('utf8'));
    } catch (err: unknown) {
      closeFds(frame.fds);
      this.fail(protocolError('frame payload is not valid JSON', err));
      return;
    }
    if (frame.kind === FrameKind.RESPONSE) {
      this.handleResponse(frame.id, json, frame.fds);
      return;
    }
    if (!isJsonObject(json) || typeof json.type !== 'string') {
      closeFds(frame.fds);
      this.fail(protocolError('request without a string "type"'));
      return;
    }
    void this.serve(frame.id, { type: json.type, message: json, fds: frame.fds });
  }

  private async serve(id: number, request: IncomingRequest): Promise<void> {
    let reply: OutgoingReply;
    try {
      reply = await this.router.route(request, this);
    } catch (err: unknown) {
      // Routers are written not to throw; if one does, the requester still gets an answer.
      reply = errorReply(err);
    }
    this.sendReply(id, reply);
  }

  private sendReply(id: number, reply: OutgoingReply): void {
    // The peer left while the handler ran; its fds are the handler's, so nothing to close.
    if (this.closeReason !== null) return;
    const fds = reply.payload.status === 'ok' ? (reply.fds ?? []) : [];
    let frame: Buffer;
    try {
      frame = encodeJsonFrame(FrameKind.RESPONSE, id, reply.payload, fds.length);
    } catch (err: unknown) {
      // Too large, too many fds, or not serializable: the requester still gets an answer.
      const code = err instanceof ProxyctlError ? err.code : 'PROXYCTL_ERR_RPC_PROTOCOL';
      const why = (err instanceof Error ? err.message : String(err)).slice(0, 512);
      frame = encodeJsonFrame(FrameKind.RESPONSE, id, { status: 'error', code, message: `reply could not be encoded: ${why}` }, 0);
      this.send(frame, []);
      return;
    }
    const closeAfter = reply.closeAfter;
    this.send(frame, fds, closeAfter ? () => this.fail(closeAfter) : undefined);
    reply.onQueued?.();
  }

  private handleResponse(id: number, json: unknown, fds: number[]): void {
    const entry = this.pending.get(id);
    if (entry === undefined) {
      // Its deadline passed (or the peer invented the id): nobody will take these fds.
      closeFds(fds);
      return;
    }
    this.pending.delete(id);
    clearTimeout(entry.timer);
    let payload: ReplyPayload<JsonObject>;
    try {
      payload = validateReplyPayload(json);
    } catch (err: unknown) {
      closeFds(fds);
      const reason = err instanceof ProxyctlError ? err : protocolError(String(err), err);
      entry.reject(reason);
      this.fail(reason);
      return;
    }
    if (payload.status !== 'ok') closeFds(fds);
    if (payload.status === 'unrecognized') {
      entry.reject(new ProxyctlError('PROXYCTL_ERR_RPC_UNRECOGNIZED', `the peer does not recognize request type "${payload.type}"`, { type: entry.type, id }));
      return;
    }
    if (payload.status === 'error') {
      entry.reject(new ProxyctlError('PROXYCTL_ERR_RPC_REMOTE', `${entry.type} failed on the peer: ${payload.message}`, { type: entry.type, id, remoteCode: payload.code, remoteMessage: payload.message, remoteDetails: payload.details ?? {} }));
      return;
    }
    try {
      if (payload.body.type !== entry.type) throw protocolError(`reply of type ${String(payload.body.type)} to a ${entry.type} request`);
      entry.resolve({ body: METHODS[entry.type].reply(payload.body, fds.length), fds });
    } catch (err: unknown) {
      // The framing is intact, so only this request fails; its fds are closed, not leaked.
      closeFds(fds);
      entry.reject(err instanceof ProxyctlError ? err : protocolError(String(err), err));
    }
  }
}
