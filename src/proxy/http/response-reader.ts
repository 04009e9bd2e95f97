/**
 * Reading one HTTP/1.1 response from the upstream connection an exchange holds: interim heads,
 * the final head, the body's framing, and flow control toward the owner. It is the base of
 * `UpstreamExchange` (exchange.ts), which gets the request to an upstream (tries, retries,
 * deadlines) and decides what a failure answers, through the hooks at the end of this class.
 */
import type { UpstreamConn, UpstreamPool } from '../upstream/pool-types.js';
import type { DirectResponseSnapshot } from '../types.js';
import { BAD_FRAMING, BodyFramer, BodyMode, NEED_MORE } from './body.js';
import { Res, type ExchangeOwner, type TunnelOwner } from './exchange-types.js';
import { INCOMPLETE, MALFORMED, MessageHead, parseResponseHead } from './head.js';
import { REPLY_502 } from './local-reply.js';

export abstract class ResponseReader {
  res = Res.None;
  /**
   * Why the last exchange did not end with an upstream response, comma-separated, for access
   * logs ("" when it did): `UT` timeout, `UF` connect failure, `UC` closed before the response
   * head, `UPE` protocol error, `URX` the retry policy would have retried but none were left,
   * `SI` the client stalled past its listener's `requestBody` (the exchange was cancelled).
   */
  responseFlags = '';
  protected upstream: UpstreamConn | null = null;
  protected pool: UpstreamPool | null = null;
  protected resPending: Buffer | null = null;
  protected readonly resHead = new MessageHead();
  protected readonly resBody = new BodyFramer();
  protected reusable = false;
  protected status = 0;
  /** A bodiless request sent on a reused upstream connection: resent once if that one was stale. */
  protected retryable: Buffer | null = null;
  /** The upstream socket is paused because the downstream one is full. */
  protected upstreamPaused = false;
  /** `resBody.sink` while a chunked body is dechunked for the owner. */
  private readonly toOwner = (buf: Buffer, start: number, end: number): void => {
    if (!this.owner.sendBody(buf, start, end)) this.pauseUpstream();
  };

  constructor(protected readonly owner: ExchangeOwner) {}

  /** The downstream socket is full: hold the upstream until it drains. */
  downstreamFull(): void {
    this.pauseUpstream();
  }

  /** The downstream socket drained: let a paused response flow again. */
  downstreamDrained(): void {
    if (this.upstreamPaused) {
      this.upstreamPaused = false;
      if (this.upstream !== null) this.upstream.resume();
    }
  }

  // ---- UpstreamOwner (the data half; the exchange does drain and close) -----------------------

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
      if (end !== MALFORMED && o.upgrading && ((o as TunnelOwner).connecting ? h.status >= 200 && h.status < 300 : h.status === 101)) {
        // The upgrade (or CONNECT) is accepted: from here on the bytes are the tunnel's, both ways.
        this.res = Res.Tunnel;
        this.reusable = false;
        this.status = h.status;
        this.settled();
        (o as TunnelOwner).startTunnel(buf, pos, buf.length, h.status);
        return;
      }
      if (end === MALFORMED || h.status === 101) {
        this.failed(REPLY_502, (this.pool as UpstreamPool).stats.rqProtocolError, 'UPE');
        return;
      }
      if (h.status >= 200) break;
      this.interimSent();
      o.sendInterim(buf, pos, end);
      pos = end;
      if (pos === buf.length) return;
    }
    const status = h.status;
    if (this.finalHead(status)) return;
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
        this.failed(REPLY_502, (this.pool as UpstreamPool).stats.rqProtocolError, 'UPE');
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
    (this.pool as UpstreamPool).stats.rqProtocolError.inc();
    this.flag('UPE');
    this.owner.resetMidResponse();
  }

  protected done(): void {
    this.res = Res.Done;
    this.settled();
    this.owner.responseDone(this.status);
  }

  private pauseUpstream(): void {
    if (this.upstream !== null) {
      this.upstreamPaused = true;
      this.upstream.pause();
    }
  }

  protected flag(f: string): void {
    this.responseFlags = this.responseFlags === '' ? f : `${this.responseFlags},${f}`;
  }

  // ---- hooks: the exchange's side -------------------------------------------------------------

  /** No usable response: `reply` goes downstream, counted in `counter`, flagged `flag`. */
  protected abstract failed(reply: DirectResponseSnapshot, counter: { inc(): void }, flag: string): void;
  /** Closes the upstream connection held, if any; it is never reused. */
  protected abstract retire(): void;
  /** An interim head is about to go downstream. */
  protected abstract interimSent(): void;
  /** A final head with `status` arrived, nothing of it sent yet; true when the exchange took it over (a retry). */
  protected abstract finalHead(status: number): boolean;
  /** The response ended (`done`) or became a tunnel; `status` is set. */
  protected abstract settled(): void;
}
