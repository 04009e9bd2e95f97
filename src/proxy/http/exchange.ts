/**
 * The upstream half of one exchange with an HTTP/1.1 upstream: sends the request to a pooled
 * upstream connection, parses the response head and frames its body, and passes them on to its
 * owner, the downstream side, as they come. An HTTP/1 downstream connection has one, reused for
 * each of its exchanges (one at a time), so a request allocates no exchange; an HTTP/2 one has
 * one per stream.
 *
 * How the response goes out (bytes rewritten for an HTTP/1 hop, or HTTP/2 frames), whether it
 * closes the downstream connection, and what to answer when the upstream fails are the owner's
 * business, through `ExchangeOwner`.
 */
import type { DirectResponseSnapshot } from '../types.js';
import type { ClusterRuntime } from '../upstream/cluster.js';
import type { EndpointPool } from '../upstream/pool.js';
import { BAD_FRAMING, BodyFramer, BodyMode, NEED_MORE } from './body.js';
import { INCOMPLETE, MALFORMED, MessageHead, parseResponseHead } from './head.js';
import { REPLY_502, REPLY_503, REPLY_504 } from './local-reply.js';
import { UpstreamHttp, type UpstreamOwner } from './upstream.js';

/** Where the exchange is on the response side. */
export const enum Res {
  None,
  WaitHead,
  Body,
  Done,
  /** After a 101: bytes pass through both ways until either side closes. */
  Tunnel,
}

/** What the exchange needs from the downstream connection that runs it. */
export interface ExchangeOwner {
  /** A HEAD request: the response has no body whatever its head says. */
  readonly isHead: boolean;
  /** The request message has been read to its end. */
  readonly reqDone: boolean;
  /** Chunked response bodies arrive as payload only (`sendBody` gets no chunk framing). */
  readonly dechunk: boolean;
  /** Restarts the owner's timer at `upstreamResponseMs` from now. */
  waitUpstream(): void;
  /** An interim (1xx) response head, buf[start, end). */
  sendInterim(buf: Buffer, start: number, end: number): void;
  /**
   * The final response head `h` (parsed from buf), followed in buf[h.headEnd, bodyEnd) by body
   * bytes of the same read, framed as `mode` says (unless dechunked: then bodyEnd = headEnd).
   * Parse state in `h` is valid only during the call. Returns false when the downstream is full.
   */
  sendHead(buf: Buffer, h: MessageHead, bodyEnd: number, mode: BodyMode): boolean;
  /** More response body, buf[start, end). Returns false when the downstream is full. */
  sendBody(buf: Buffer, start: number, end: number): boolean;
  /** The whole response is written to the downstream socket. */
  responseDone(status: number): void;
  /** No usable response: answer the client locally (nothing of the response was sent). */
  localReply(reply: DirectResponseSnapshot): void;
  /** The response broke after its head went out: the client must see a broken message. */
  resetMidResponse(): void;
  /** The upstream socket drained: request-body reads may resume. */
  upstreamDrained(): void;
  /** The request asked to upgrade and was forwarded so: a 101 opens a tunnel (`TunnelOwner`). */
  readonly upgrading: boolean;
}

/** An owner that can take an upgrade (HTTP/1 downstream). */
export interface TunnelOwner extends ExchangeOwner {
  /** The upstream's 101 head and whatever followed it, buf[start, end): the tunnel is open. */
  startTunnel(buf: Buffer, start: number, end: number): void;
  /** Tunnel bytes from the upstream. Returns false when the downstream is full. */
  tunnelData(chunk: Buffer): boolean;
  /** The upstream side of the tunnel ended or closed. */
  tunnelEnded(): void;
}

export class UpstreamExchange implements UpstreamOwner {
  res = Res.None;
  private upstream: UpstreamHttp | null = null;
  private pool: EndpointPool<UpstreamHttp> | null = null;
  private resPending: Buffer | null = null;
  private readonly resHead = new MessageHead();
  private readonly resBody = new BodyFramer();
  private reusable = false;
  private status = 0;
  /** A bodiless request sent on a reused upstream connection: resent once if that one was stale. */
  private retryable: Buffer | null = null;
  /** The upstream socket is paused because the downstream one is full. */
  private upstreamPaused = false;
  /** `resBody.sink` while a chunked body is dechunked for the owner. */
  private readonly toOwner = (buf: Buffer, start: number, end: number): void => {
    if (!this.owner.sendBody(buf, start, end)) this.pauseUpstream();
  };

  constructor(private readonly owner: ExchangeOwner) {}

  /**
   * Sends `head` (rewritten for the upstream hop, with any body bytes of the same read) to an
   * endpoint of `cluster`. Returns false when the upstream's write buffer is full.
   */
  start(cluster: ClusterRuntime, head: Buffer, hasBody: boolean): boolean {
    const pool = cluster.pools[cluster.lb.pick()] as EndpointPool<UpstreamHttp>;
    let up = pool.takeIdle();
    const reused = up !== null;
    if (up === null) up = new UpstreamHttp(pool);
    up.owner = this;
    up.used = true;
    this.upstream = up;
    this.pool = pool;
    this.res = Res.WaitHead;
    this.resPending = null;
    this.owner.waitUpstream();
    pool.stats.rqTotal.inc();
    this.retryable = reused && !hasBody ? head : null;
    return up.socket.write(head);
  }

  /** More request body. Returns false when the upstream's write buffer is full. */
  writeBody(chunk: Buffer): boolean {
    const up = this.upstream;
    if (up === null || this.res === Res.Done) return true;
    return up.socket.write(chunk);
  }

  /** The client half-closed a tunnel: pass the FIN on. */
  endUpstream(): void {
    if (this.upstream !== null) this.upstream.socket.end();
  }

  /** The connection's timer expired during this exchange; returns false if it must be destroyed. */
  timedOut(): boolean {
    if (this.res === Res.WaitHead && this.upstream !== null) {
      this.failed(REPLY_504, (this.pool as EndpointPool<UpstreamHttp>).stats.rq504);
      return true;
    }
    return false;
  }

  /** The downstream socket is full: hold the upstream until it drains. */
  downstreamFull(): void {
    this.pauseUpstream();
  }

  /** The downstream socket drained: let a paused response flow again. */
  downstreamDrained(): void {
    if (this.upstreamPaused) {
      this.upstreamPaused = false;
      if (this.upstream !== null) this.upstream.socket.resume();
    }
  }

  /** The exchange is over: the upstream goes back to its pool if its framing is trustworthy. */
  finish(now: number): void {
    const up = this.upstream;
    this.res = Res.None;
    this.retryable = null;
    if (up === null) return;
    this.upstream = null;
    up.owner = null;
    if (this.upstreamPaused) {
      this.upstreamPaused = false;
      up.socket.resume();
    }
    if (this.owner.reqDone && this.reusable) up.pool.release(up, now);
    else up.close();
  }

  /** The downstream side is gone mid-exchange: the upstream socket cannot be reused. */
  abandon(): void {
    this.retire();
  }

  // ---- UpstreamOwner ------------------------------------------------------------------------

  onUpstreamData(chunk: Buffer): void {
    this.retryable = null; // the upstream answered: it was not stale
    if (this.res === Res.Tunnel) {
      if (!(this.owner as TunnelOwner).tunnelData(chunk)) this.pauseUpstream();
      return;
    }
    if (this.res === Res.Body) {
      this.body(chunk);
      return;
    }
    if (this.res !== Res.WaitHead) {
      this.retire(); // bytes after the response ended: framing doubt
      return;
    }
    let buf = chunk;
    if (this.resPending !== null) {
      buf = Buffer.concat([this.resPending, chunk]);
      this.resPending = null;
    }
    this.head(buf);
  }

  onUpstreamDrain(): void {
    this.owner.upstreamDrained();
  }

  onUpstreamClose(up: UpstreamHttp): void {
    if (up !== this.upstream) return;
    this.upstream = null;
    if (this.res === Res.Tunnel) {
      (this.owner as TunnelOwner).tunnelEnded();
      return;
    }
    if (this.res === Res.Body) {
      if (this.resBody.mode === BodyMode.UntilClose) this.done(); // close-delimited body: this close is its end
      else this.owner.resetMidResponse();
      return;
    }
    if (this.res !== Res.WaitHead) return;
    const retry = this.retryable;
    if (retry !== null && up.wasConnected && this.resPending === null) {
      // A reused keep-alive socket the upstream had closed: resend the bodiless request once.
      this.retryable = null;
      const fresh = new UpstreamHttp(up.pool);
      fresh.owner = this;
      fresh.used = true;
      this.upstream = fresh;
      fresh.socket.write(retry);
      return;
    }
    this.failed(REPLY_503, up.pool.stats.rq503);
  }

  // ---- response -----------------------------------------------------------------------------

  private head(buf: Buffer): void {
    const h = this.resHead;
    const o = this.owner;
    let pos = 0;
    let end: number;
    // Interim (1xx) responses go through as they are; then the final head follows.
    for (;;) {
      end = parseResponseHead(buf, pos, h);
      if (end === INCOMPLETE) {
        this.resPending = pos === 0 ? buf : buf.subarray(pos);
        return;
      }
      if (end !== MALFORMED && h.status === 101 && o.upgrading) {
        // The upgrade is accepted: from here on the bytes are the new protocol's, both ways.
        this.res = Res.Tunnel;
        this.reusable = false;
        this.status = 101;
        (o as TunnelOwner).startTunnel(buf, pos, buf.length);
        return;
      }
      if (end === MALFORMED || h.status === 101) {
        this.failed(REPLY_502, (this.pool as EndpointPool<UpstreamHttp>).stats.rqProtocolError);
        return;
      }
      if (h.status >= 200) break;
      o.sendInterim(buf, pos, end);
      pos = end;
      if (pos === buf.length) return;
    }
    const status = h.status;
    let mode: BodyMode;
    if (o.isHead || status === 204 || status === 304) mode = BodyMode.None;
    else if (h.chunked) mode = BodyMode.Chunked;
    else if (h.otherEncoding || h.contentLength < 0) mode = BodyMode.UntilClose;
    else mode = BodyMode.Length;
    this.resBody.reset(mode, h.contentLength);
    this.status = status;
    this.reusable = !h.connClose && mode !== BodyMode.UntilClose && (h.version === 11 || h.connKeepAlive);
    o.waitUpstream();
    let bodyEnd: number;
    let room: boolean;
    if (mode === BodyMode.Chunked && o.dechunk) {
      // The head goes first; the payload follows through the sink as the framing is walked.
      room = o.sendHead(buf, h, end, mode);
      this.resBody.sink = this.toOwner;
      bodyEnd = this.resBody.feed(buf, end, buf.length);
      if (bodyEnd === BAD_FRAMING) {
        this.protocolErrorMidResponse();
        return;
      }
    } else {
      this.resBody.sink = null;
      bodyEnd = mode === BodyMode.None ? end : this.resBody.feed(buf, end, buf.length);
      if (bodyEnd === BAD_FRAMING) {
        this.failed(REPLY_502, (this.pool as EndpointPool<UpstreamHttp>).stats.rqProtocolError);
        return;
      }
      room = o.sendHead(buf, h, bodyEnd === NEED_MORE ? buf.length : bodyEnd, mode);
    }
    if (bodyEnd === NEED_MORE) {
      this.res = Res.Body;
      if (!room) this.pauseUpstream();
      return;
    }
    if (bodyEnd !== buf.length) this.reusable = false;
    this.done();
  }

  private body(chunk: Buffer): void {
    const r = this.resBody.feed(chunk, 0, chunk.length);
    if (r === BAD_FRAMING) {
      this.protocolErrorMidResponse();
      return;
    }
    this.owner.waitUpstream();
    const sinkless = this.resBody.sink === null;
    if (r === NEED_MORE) {
      if (sinkless && !this.owner.sendBody(chunk, 0, chunk.length)) this.pauseUpstream();
      return;
    }
    if (sinkless) this.owner.sendBody(chunk, 0, r);
    if (r !== chunk.length) this.reusable = false;
    this.done();
  }

  private protocolErrorMidResponse(): void {
    (this.pool as EndpointPool<UpstreamHttp>).stats.rqProtocolError.inc();
    this.owner.resetMidResponse();
  }

  private done(): void {
    this.res = Res.Done;
    this.owner.responseDone(this.status);
  }

  private pauseUpstream(): void {
    if (this.upstream !== null) {
      this.upstreamPaused = true;
      this.upstream.socket.pause();
    }
  }

  private failed(reply: DirectResponseSnapshot, counter: { inc(): void }): void {
    counter.inc();
    this.retire();
    this.resPending = null;
    this.res = Res.Done;
    this.owner.localReply(reply);
  }

  private retire(): void {
    const up = this.upstream;
    if (up !== null) {
      this.upstream = null;
      up.owner = null;
      up.close();
    }
  }
}
