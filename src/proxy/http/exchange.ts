/**
 * The upstream half of one HTTP/1.1 exchange: sends the request to a pooled upstream connection,
 * parses the response head and frames its body, and passes the bytes to the downstream socket
 * as they come, head rewritten for the downstream hop. One object per downstream connection,
 * reused for each of its exchanges (one at a time), so a request allocates no exchange.
 *
 * What the response means for the downstream connection (close or keep-alive, when the
 * exchange is over, what to answer when the upstream fails) is the owner's business, through
 * `ExchangeOwner`.
 */
import type { Socket } from 'node:net';
import type { DirectResponseSnapshot } from '../types.js';
import type { ClusterRuntime } from '../upstream/cluster.js';
import type { EndpointPool } from '../upstream/pool.js';
import { BAD_FRAMING, BodyFramer, BodyMode, NEED_MORE } from './body.js';
import { INCOMPLETE, MALFORMED, MessageHead, parseResponseHead } from './head.js';
import { REPLY_502, REPLY_503, REPLY_504 } from './local-reply.js';
import { CONNECTION_CLOSE, CONNECTION_KEEP_ALIVE, rewriteHead } from './rewrite.js';
import { UpstreamHttp, type UpstreamOwner } from './upstream.js';

/** Where the exchange is on the response side. */
export const enum Res {
  None,
  WaitHead,
  Body,
  Done,
}

/** What the exchange needs from the downstream connection that runs it. */
export interface ExchangeOwner {
  readonly socket: Socket;
  /** The request being answered (its version decides 1xx forwarding and chunked framing). */
  readonly req: MessageHead;
  readonly isHead: boolean;
  /** The request message has been read to its end. */
  readonly reqDone: boolean;
  /** An HTTP/1.0 client that asked for keep-alive (its response must say so). */
  readonly http10KeepAlive: boolean;
  /** Decides once per response whether it closes the downstream connection. */
  decideClose(structural: boolean): boolean;
  /** Restarts the connection's timer at `upstreamResponseMs` from now. */
  waitUpstream(): void;
  /** The whole response is written to the downstream socket. */
  responseDone(status: number): void;
  /** No usable response: answer the client locally (nothing of the response was sent). */
  localReply(reply: DirectResponseSnapshot): void;
  /** The response broke after its head went out: the client must see a broken message. */
  resetMidResponse(): void;
  /** The upstream socket drained: request-body reads may resume. */
  upstreamDrained(): void;
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

  /** The connection's timer expired during this exchange; returns false if it must be destroyed. */
  timedOut(): boolean {
    if (this.res === Res.WaitHead && this.upstream !== null) {
      this.failed(REPLY_504, (this.pool as EndpointPool<UpstreamHttp>).stats.rq504);
      return true;
    }
    return false;
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
      if (end === MALFORMED || h.status === 101) {
        this.failed(REPLY_502, (this.pool as EndpointPool<UpstreamHttp>).stats.rqProtocolError);
        return;
      }
      if (h.status >= 200) break;
      if (o.req.version === 11) o.socket.write(buf.subarray(pos, end));
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
    const bodyEnd = mode === BodyMode.None ? end : this.resBody.feed(buf, end, buf.length);
    if (bodyEnd === BAD_FRAMING) {
      this.failed(REPLY_502, (this.pool as EndpointPool<UpstreamHttp>).stats.rqProtocolError);
      return;
    }
    this.status = status;
    this.reusable = !h.connClose && mode !== BodyMode.UntilClose && (h.version === 11 || h.connKeepAlive);
    // Downstream: close when the framing needs it, the request is not all read, or the owner says so.
    const close = o.decideClose(mode === BodyMode.UntilClose || !o.reqDone || (o.req.version === 10 && mode === BodyMode.Chunked));
    const inject = close ? CONNECTION_CLOSE : o.http10KeepAlive ? CONNECTION_KEEP_ALIVE : null;
    o.waitUpstream();
    if (bodyEnd === NEED_MORE) {
      this.res = Res.Body;
      if (!o.socket.write(rewriteHead(buf, h, inject, buf.length))) this.pauseUpstream();
      return;
    }
    o.socket.write(rewriteHead(buf, h, inject, bodyEnd));
    if (bodyEnd !== buf.length) this.reusable = false;
    this.done();
  }

  private body(chunk: Buffer): void {
    const r = this.resBody.feed(chunk, 0, chunk.length);
    if (r === BAD_FRAMING) {
      (this.pool as EndpointPool<UpstreamHttp>).stats.rqProtocolError.inc();
      this.owner.resetMidResponse();
      return;
    }
    this.owner.waitUpstream();
    if (r === NEED_MORE) {
      if (!this.owner.socket.write(chunk)) this.pauseUpstream();
      return;
    }
    this.owner.socket.write(r === chunk.length ? chunk : chunk.subarray(0, r));
    if (r !== chunk.length) this.reusable = false;
    this.done();
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
