/**
 * The HTTP/1.1 connection manager for one downstream socket: reads request heads (head.ts) and
 * bodies (body.ts), routes them, answers directly or hands them to its upstream exchange
 * (exchange.ts), and decides keep-alive, drain and close. One exchange runs at a time; requests
 * that arrive meanwhile (pipelining) wait in `pending`, bounded, and are served in order. All
 * socket handlers are bound once per connection; per request there are no closures, no promises
 * and no header maps.
 *
 * Drain: `drainAt` is the wall-clock moment this connection starts closing. A response decided
 * after it carries `Connection: close` and the socket is ended once it is written. A connection
 * between requests is never closed for the drain except by `closeIfIdle` at the deadline.
 */
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { ConnectionContext, DownstreamConnection, WorkerRouteTable } from '../connection-types.js';
import type { DirectResponseSnapshot, HttpListenerSnapshot, HttpStats } from '../types.js';
import type { ClusterRuntime } from '../upstream/cluster.js';
import { BAD_FRAMING, BodyFramer, BodyMode, NEED_MORE } from './body.js';
import { Res, UpstreamExchange, type TunnelOwner } from './exchange.js';
import { INCOMPLETE, MALFORMED, MessageHead, headerFields, parseRequestHead } from './head.js';
import { RequestHeaderMap, ResponseHeaderMap } from './header-map.js';
import { RequestRecord } from './request-record.js';
import { nextConnectionId, type AccessLog } from '../access-log/index.js';
import { REPLY_400, REPLY_404, REPLY_431 } from './local-reply.js';
import { forwardedLines } from './forwarded.js';
import { policyOf } from './retry.js';
import { CONNECTION_CLOSE, CONNECTION_KEEP_ALIVE, rewriteHead } from './rewrite.js';
import { redirectReply } from './local-reply.js';
import type { FilterChainFactory } from './filter-chain-types.js';
import { H1Filtered, type FilteredConnection } from './h1-filtered.js';
import { Http1RouteRequest, rewriteAuthority, rewritePath, routeHttp1, type ClusterDecision } from '../router/index.js';

const enum Phase {
  /** Between requests, or reading a request head. */
  Idle,
  /** An exchange is in progress. */
  Active,
  /** Upgraded (101): bytes pass through both ways, until either side closes or it idles out. */
  Tunnel,
  /** Our side is ended; waiting for the peer to close (bounded by LINGER_MS). */
  Closing,
  Closed,
}

const enum Paused {
  No = 0,
  /** The upstream's write buffer is full (request body). */
  Upstream = 1,
  /** Too many pipelined bytes waiting. */
  Pipeline = 2,
}

/** Pipelined bytes kept while an exchange runs before reads pause. */
const MAX_PIPELINE_BYTES = 256 * 1024;
/** After our FIN, how long the peer gets to close before the socket is destroyed. */
const LINGER_MS = 5_000;

export class HttpConnection implements DownstreamConnection, TunnelOwner, FilteredConnection {
  private phase = Phase.Idle;
  private pending: Buffer | null = null;
  readonly req = new MessageHead();
  /** HTTP/1.1 gets chunked framing as it is; an HTTP/1.0 client the payload, close-delimited. */
  dechunk = false;
  private readonly reqBody = new BodyFramer();
  reqDone = true;
  /** The response to the current request is all written (direct, local or proxied). */
  private responded = false;
  private readonly exchange: UpstreamExchange = new UpstreamExchange(this);
  private wantClose = false;
  /** The current request itself asked for the close (`Connection: close`, or HTTP/1.0 without keep-alive). */
  private askedClose = false;
  http10KeepAlive = false;
  isHead = false;
  /** The current request asks to upgrade (`Connection: upgrade` with `Upgrade`, no body). */
  upgrading = false;
  /** Became a tunnel (it never goes back). */
  private tunneled = false;
  private remoteIp: string | undefined;
  /** The router's view of the current request (reset per request, no allocation). */
  private readonly routeReq = new Http1RouteRequest();
  readonly scheme: 'http' | 'https';
  /** Requests through HTTP filters (made on the first one). */
  private filtered: H1Filtered | null = null;
  /** The current request's access-log record (raw path, listeners with a log only). */
  private rec: RequestRecord | null = null;
  private connectionId = 0;
  private clientEnded = false;
  private closeAfter = false;
  private closeForDrain = false;
  private readingHead = false;
  private status = 0;
  private startedAt = 0;
  private deadline: number;
  private drainAt: number;
  private paused = Paused.No;
  private http: HttpStats;

  constructor(
    readonly socket: Socket,
    private readonly ctx: ConnectionContext,
  ) {
    this.http = (ctx.listener as HttpListenerSnapshot).http;
    this.scheme = (socket as Partial<TLSSocket>).encrypted === true ? 'https' : 'http';
    this.routeReq.scheme = this.scheme;
    this.drainAt = ctx.drainAtForNew();
    this.deadline = ctx.clock.now + ctx.timeouts.idleMs;
    // Half-open: a client may send its request and shut down its side; the response still goes out.
    socket.allowHalfOpen = true;
    socket.setNoDelay(true);
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('drain', this.onDrain);
    socket.on('error', ignoreError);
    socket.on('close', this.onClose);
    this.http.cxHttp1Active.inc();
  }

  /** The client's address, read once (each `remoteAddress` is a getpeername(2)). */
  clientIp(): string {
    return (this.remoteIp ??= this.socket.remoteAddress ?? '');
  }

  /** Bytes read before this connection existed (protocol detection), as its first read. */
  feed(chunk: Buffer): void {
    this.onData(chunk);
  }

  // ---- DownstreamConnection -------------------------------------------------------------

  onTick(now: number): void {
    if (now < this.deadline) return;
    switch (this.phase) {
      case Phase.Idle:
        // A half-read head is a slow client (header-read timeout); an empty one is idle keep-alive.
        if (this.pending !== null) this.destroy();
        else this.gracefulClose();
        return;
      case Phase.Tunnel:
        this.destroy(); // no byte either way for idleMs
        return;
      case Phase.Active:
        if (this.filtered?.fx != null) {
          this.filtered.fx.onTick(now);
          return;
        }
        if (!this.exchange.timedOut()) {
          if (this.exchange.res === Res.Body) this.http.rqResponseReset.inc();
          this.destroy(); // a stalled body in either direction
        }
        return;
      default:
        this.destroy();
    }
  }

  /** A tunnel cannot be asked to close in-band: at a forcing drain's deadline it is destroyed. */
  get forcedAtDrainDeadline(): boolean {
    return this.phase === Phase.Tunnel;
  }

  drain(at: number): void {
    if (at < this.drainAt) this.drainAt = at;
  }

  closeIfIdle(): boolean {
    if (this.phase !== Phase.Idle || this.pending !== null) return false;
    (this.ctx.listener.stats.cxDrainIdleClose).inc();
    this.gracefulClose();
    return true;
  }

  destroy(): void {
    this.phase = Phase.Closed;
    this.exchange.abandon();
    this.filtered?.destroy();
    this.socket.destroy();
  }

  // ---- downstream socket events ---------------------------------------------------------

  private readonly onData = (chunk: Buffer): void => {
    if (this.phase === Phase.Idle) {
      if (this.pending !== null) {
        chunk = Buffer.concat([this.pending, chunk]);
        this.pending = null;
      }
      this.serve(chunk, 0);
    } else if (this.phase === Phase.Active) {
      if (!this.reqDone) this.requestBody(chunk, 0);
      else this.stash(chunk, 0);
    } else if (this.phase === Phase.Tunnel) {
      this.deadline = this.ctx.clock.now + this.ctx.timeouts.idleMs;
      if (!this.exchange.writeBody(chunk)) this.pauseReads(Paused.Upstream);
    }
    // Closing/Closed: what the client sends after our FIN is dropped.
  };

  private readonly onEnd = (): void => {
    this.clientEnded = true;
    if (this.phase === Phase.Tunnel) {
      this.exchange.endUpstream();
      return;
    }
    if (this.phase === Phase.Idle) {
      this.pending = null; // a partial head can never complete now
      this.gracefulClose();
    }
    // Active: the response goes out with Connection: close (decided or at endExchange).
  };

  private readonly onDrain = (): void => {
    this.exchange.downstreamDrained();
    this.filtered?.fx?.upstream?.downstreamDrained();
  };

  private readonly onClose = (): void => {
    if (this.tunneled) this.http.cxUpgradesActive.dec();
    this.phase = Phase.Closed;
    this.http.cxHttp1Active.dec();
    this.exchange.abandon(); // mid-way, the upstream socket cannot be reused
    this.filtered?.destroy();
    const rec = this.rec;
    if (rec !== null) {
      this.rec = null;
      this.logged(rec, 0, 'DC'); // the connection ended before the response did
    }
    this.ctx.onClosed(this);
  };

  // ---- request side ---------------------------------------------------------------------

  /** Parses and starts requests in buf[pos..] while no exchange is running. */
  private serve(buf: Buffer, pos: number): void {
    while (this.phase === Phase.Idle) {
      if (pos === buf.length) {
        if (this.clientEnded) this.gracefulClose();
        return;
      }
      const end = parseRequestHead(buf, pos, this.req);
      if (end === INCOMPLETE) {
        if (!this.readingHead) {
          this.readingHead = true;
          this.deadline = this.ctx.clock.now + this.ctx.timeouts.headerReadMs;
        }
        this.pending = pos === 0 ? buf : buf.subarray(pos);
        if (this.clientEnded) this.gracefulClose();
        return;
      }
      this.readingHead = false;
      if (end === MALFORMED) {
        // A head that does not parse is still a request (a body that fails was counted already).
        (this.ctx.listener as HttpListenerSnapshot).http.rqTotal.inc();
        this.reject(this.req.error === 431 ? REPLY_431 : REPLY_400);
        return;
      }
      const next = this.startRequest(buf, end);
      if (next < 0) return; // the body continues in later reads, or the connection is closing
      if ((this.phase as Phase) === Phase.Active) {
        if (next < buf.length) this.stash(buf, next);
        return;
      }
      pos = next; // answered synchronously (direct response): go on with pipelined requests
    }
  }

  /** Returns where the request message ends in buf, or -1 if it continues past buf or failed. */
  private startRequest(buf: Buffer, end: number): number {
    const h = this.req;
    const ctx = this.ctx;
    this.http = (ctx.listener as HttpListenerSnapshot).http;
    // Counted when the head is decoded, as Envoy does: a client that has its response has
    // always been counted, even if this epoch is gone before the exchange is wrapped up.
    this.http.rqTotal.inc();
    this.startedAt = performance.now();
    this.askedClose = h.connClose || (h.version === 10 && !h.connKeepAlive);
    this.wantClose = this.askedClose || this.clientEnded;
    this.http10KeepAlive = h.version === 10 && !this.wantClose;
    this.dechunk = h.version === 10;
    this.isHead = h.isHead;
    this.upgrading = h.connUpgrade && h.upgradeLine >= 0 && !h.connClose && h.contentLength <= 0 && !h.chunked;
    this.closeAfter = false;
    this.closeForDrain = false;
    this.phase = Phase.Active;
    this.responded = false;
    if (h.chunked) this.reqBody.reset(BodyMode.Chunked, 0);
    else this.reqBody.reset(h.contentLength > 0 ? BodyMode.Length : BodyMode.None, h.contentLength);
    const listener = ctx.listener as HttpListenerSnapshot;
    const chains = listener.filterChain;
    if (!chains.isEmpty) return this.startFiltered(chains, buf, end);
    this.rec = listener.accessLog === null ? null : this.record(listener, buf, h);

    // Where the body ends within this read (before anything is sent anywhere).
    let bodyEnd = end;
    this.reqDone = true;
    if (this.reqBody.mode !== BodyMode.None) {
      const r = this.reqBody.feed(buf, end, buf.length);
      if (r === BAD_FRAMING) {
        this.reject(REPLY_400);
        return -1;
      }
      if (r === NEED_MORE) {
        bodyEnd = buf.length;
        this.reqDone = false;
      } else bodyEnd = r;
      if (this.rec !== null) this.rec.bytesReceived += bodyEnd - end;
    }

    const d = routeHttp1(ctx.routeTable as WorkerRouteTable, this.routeReq, buf, h);
    if (this.rec !== null && d.kind !== 'reject') this.rec.streamInfo.routeName = d.route.name;
    if (d.kind === 'cluster') this.forward(d, buf, bodyEnd);
    else {
      if (d.kind === 'direct') this.answer(d.response);
      else if (d.kind === 'redirect') this.answer(redirectReply(d.status, d.location));
      else this.answer(d.status === 400 ? REPLY_400 : REPLY_404);
      if (this.reqDone) this.endExchange();
    }
    return this.reqDone ? bodyEnd : -1;
  }

  private forward(d: ClusterDecision<ClusterRuntime>, buf: Buffer, bodyEnd: number): void {
    const h = this.req;
    const route = d.route;
    const rq = this.routeReq;
    let target: Buffer | null = null;
    let host = '';
    if (route.rewrites) {
      target = Buffer.from(rewritePath(route, rq.path), 'latin1');
      if (route.hostRewrite !== null) {
        if (h.hostLine >= 0) h.dropLine(h.hostLine);
        host = `host: ${rewriteAuthority(route, rq.authority)}\r\n`;
      }
    } else if (rq.normalizedPath !== null) target = Buffer.from(rq.normalizedPath, 'latin1');
    let conn = '';
    if (this.upgrading) {
      h.keepLine(h.upgradeLine);
      conn = 'connection: upgrade\r\n';
    } else if (h.version === 10) conn = 'connection: keep-alive\r\n'; // upstream is always keep-alive
    let priorXff = '';
    const xff = h.xffLines;
    if (xff !== null) {
      for (const i of xff) {
        priorXff = priorXff === '' ? h.value(buf, i) : `${priorXff}, ${h.value(buf, i)}`;
        h.dropLine(i);
      }
    }
    if (h.xfpLine >= 0) h.dropLine(h.xfpLine);
    const rec = this.rec;
    if (rec !== null) {
      rec.streamInfo.clusterName = d.clusterName;
      rec.request?.set('x-forwarded-for', priorXff === '' ? this.clientIp() : `${priorXff}, ${this.clientIp()}`);
    }
    const id = h.hasRequestId ? null : rec === null ? undefined : rec.streamInfo.requestId;
    if (id !== null && id !== undefined) rec?.request?.set('x-request-id', id); // the log shows the id the upstream got
    const extra = conn + host + forwardedLines(priorXff, this.clientIp(), this.scheme, id);
    const out = rewriteHead(buf, h, Buffer.from(extra, 'latin1'), bodyEnd, target);
    if (!this.exchange.start(d.cluster, out, !this.reqDone, policyOf(d.route))) this.pauseReads(Paused.Upstream);
  }

  private logged(rec: RequestRecord, status: number, flags: string): void {
    const forwarded = rec.streamInfo.clusterName !== '';
    if (forwarded) rec.streamInfo.upstreamHost = this.exchange.upstreamHost;
    rec.finish(status, forwarded ? flags : '');
  }

  /** Starts the access-log record of the request whose head is `h`. */
  private record(listener: HttpListenerSnapshot, buf: Buffer, h: MessageHead): RequestRecord {
    if (this.connectionId === 0) this.connectionId = nextConnectionId();
    const fields = headerFields(buf, h);
    const i = fields.indexOf('x-request-id');
    const rec = RequestRecord.start(listener.accessLog as AccessLog, listener.name, h.version === 10 ? 'HTTP/1.0' : 'HTTP/1.1', this.socket, i >= 0 && i % 2 === 0 ? fields[i + 1] : undefined, this.connectionId);
    if (rec.wantsRequest) {
      const method = buf.toString('latin1', h.methodStart, h.methodEnd);
      rec.request = RequestHeaderMap.fromFlat(fields, { method, path: buf.toString('latin1', h.targetStart, h.targetEnd), scheme: this.scheme });
    }
    return rec;
  }

  /** A request through the listener's HTTP filters (h1-filtered.ts): no raw forwarding. */
  private startFiltered(chains: FilterChainFactory, buf: Buffer, end: number): number {
    const f = (this.filtered ??= new H1Filtered(this, this.ctx, this.reqBody));
    // A reply a filter makes before the body is read closes the connection (the rest is unread).
    this.reqDone = this.reqBody.mode === BodyMode.None;
    const r = f.start(chains, buf, end);
    if (r === BAD_FRAMING) {
      this.reject(REPLY_400);
      return -1;
    }
    if (r === NEED_MORE) return -1;
    this.requestRead();
    return (this.phase as Phase) === Phase.Closed ? -1 : r;
  }

  /** The filtered request's body is all read: the exchange ends if its response is out. */
  private requestRead(): void {
    this.reqDone = true;
    if (this.responded) this.finishFiltered();
  }

  private finishFiltered(): void {
    const f = this.filtered as H1Filtered;
    if (f.fx === null) return; // already finished (a reply that closed the connection)
    f.complete();
    this.endExchange();
  }

  // ---- FilteredConnection -------------------------------------------------------------------

  closeDecision(structural: boolean): boolean {
    return this.decideClose(structural || !this.reqDone);
  }

  filteredSent(status: number): void {
    this.status = status;
    this.responded = true;
    if (this.reqDone || this.closeAfter) this.finishFiltered();
  }

  filteredBroken(): void {
    this.http.rqResponseReset.inc();
    this.destroy();
  }

  pauseForUpstream(): void {
    this.pauseReads(Paused.Upstream);
  }

  resumeForUpstream(): void {
    this.upstreamDrained();
  }

  /** Request body bytes arriving after the head's read: forwarded as they are, or dropped. */
  private requestBody(buf: Buffer, pos: number): void {
    const f = this.filtered;
    if (f !== null && f.fx !== null) {
      const r = f.body(buf, pos);
      if (r === BAD_FRAMING) {
        this.http.rqProtocolError.inc();
        this.destroy();
        return;
      }
      if (r === NEED_MORE) return;
      if (r < buf.length) this.stash(buf, r);
      this.requestRead();
      return;
    }
    this.waitUpstream();
    const r = this.reqBody.feed(buf, pos, buf.length);
    if (r === BAD_FRAMING) {
      this.http.rqProtocolError.inc();
      this.destroy(); // part of the body is already upstream: nothing clean to answer
      return;
    }
    const end = r === NEED_MORE ? buf.length : r;
    if (this.rec !== null) this.rec.bytesReceived += end - pos;
    if (end > pos && !this.exchange.writeBody(pos === 0 && end === buf.length ? buf : buf.subarray(pos, end))) this.pauseReads(Paused.Upstream);
    if (r === NEED_MORE) return;
    this.reqDone = true;
    if (this.exchange.res === Res.WaitHead) this.waitUpstream();
    if (end < buf.length) this.stash(buf, end);
    if (this.responded) this.endExchange();
  }

  private stash(buf: Buffer, pos: number): void {
    const rest = pos === 0 ? buf : buf.subarray(pos);
    this.pending = this.pending === null ? rest : Buffer.concat([this.pending, rest]);
    if (this.pending.length > MAX_PIPELINE_BYTES) this.pauseReads(Paused.Pipeline);
  }

  private pauseReads(why: Paused): void {
    this.paused |= why;
    this.socket.pause();
  }

  // ---- ExchangeOwner ------------------------------------------------------------------------

  upstreamDrained(): void {
    if ((this.paused & Paused.Upstream) !== 0) {
      this.paused &= ~Paused.Upstream;
      if (this.paused === Paused.No && (this.phase === Phase.Active || this.phase === Phase.Tunnel)) this.socket.resume();
    }
  }

  waitUpstream(): void {
    this.deadline = this.ctx.clock.now + this.ctx.timeouts.upstreamResponseMs;
  }

  sendInterim(buf: Buffer, start: number, end: number): void {
    if (this.req.version === 11) this.socket.write(buf.subarray(start, end));
  }

  sendHead(buf: Buffer, h: MessageHead, bodyEnd: number, mode: BodyMode): boolean {
    // Close when the framing needs it, the request is not all read, or the drain says so.
    const close = this.decideClose(mode === BodyMode.UntilClose || !this.reqDone || (this.req.version === 10 && mode === BodyMode.Chunked));
    const inject = close ? CONNECTION_CLOSE : this.http10KeepAlive ? CONNECTION_KEEP_ALIVE : null;
    if (mode === BodyMode.Chunked && this.dechunk) h.dropLine(h.teLine); // HTTP/1.0 knows no chunked coding
    const rec = this.rec;
    if (rec !== null) {
      if (rec.wantsResponse) rec.response = ResponseHeaderMap.fromFlat(headerFields(buf, h), h.status);
      rec.bytesSent += bodyEnd - h.headEnd;
    }
    return this.socket.write(rewriteHead(buf, h, inject, bodyEnd));
  }

  sendBody(buf: Buffer, start: number, end: number): boolean {
    if (this.rec !== null) this.rec.bytesSent += end - start;
    return this.socket.write(start === 0 && end === buf.length ? buf : buf.subarray(start, end));
  }

  responseDone(status: number): void {
    this.status = status;
    this.responded = true;
    if (this.reqDone || this.closeAfter) this.endExchange();
  }

  localReply(reply: DirectResponseSnapshot): void {
    this.answer(reply);
    if (this.reqDone || this.closeAfter) this.endExchange();
  }

  startTunnel(buf: Buffer, start: number, end: number): void {
    const http = this.http;
    this.phase = Phase.Tunnel;
    this.tunneled = true;
    this.status = 101;
    (http.rqByClass[1] as { inc(): void }).inc();
    http.rqTime.record((performance.now() - this.startedAt) * 1000);
    http.cxUpgradesTotal.inc();
    http.cxUpgradesActive.inc();
    this.deadline = this.ctx.clock.now + this.ctx.timeouts.idleMs;
    if (!this.socket.write(start === 0 && end === buf.length ? buf : buf.subarray(start, end))) this.exchange.downstreamFull();
    // Bytes the client sent after its upgrade request belong to the new protocol.
    const p = this.pending;
    if (p !== null) {
      this.pending = null;
      if (!this.exchange.writeBody(p)) this.pauseReads(Paused.Upstream);
    }
    if ((this.paused & Paused.Pipeline) !== 0) {
      this.paused &= ~Paused.Pipeline;
      if (this.paused === Paused.No) this.socket.resume();
    }
  }

  tunnelData(chunk: Buffer): boolean {
    this.deadline = this.ctx.clock.now + this.ctx.timeouts.idleMs;
    return this.socket.write(chunk);
  }

  tunnelEnded(): void {
    this.gracefulClose();
  }

  resetMidResponse(): void {
    this.http.rqResponseReset.inc();
    this.destroy();
  }

  // ---- shared -----------------------------------------------------------------------------

  /** Writes a pre-built response (direct or local) in one write. */
  private answer(d: DirectResponseSnapshot): void {
    const close = this.decideClose(false);
    const img = close ? d.close : this.http10KeepAlive ? d.keepAlive10 : d.keepAlive;
    this.status = d.status;
    this.responded = true;
    if (this.rec !== null && !this.isHead) this.rec.bytesSent += d.keepAlive.length - d.headBytes.keepAlive;
    if (this.isHead) {
      const n = close ? d.headBytes.close : this.http10KeepAlive ? d.headBytes.keepAlive10 : d.headBytes.keepAlive;
      this.socket.write(img.subarray(0, n));
    } else this.socket.write(img);
  }

  /** Decides (once per response) whether this response closes the connection. */
  private decideClose(structural: boolean): boolean {
    let close = structural || this.wantClose || this.clientEnded;
    if (!close && this.drainAt !== Infinity && Date.now() >= this.drainAt) {
      close = true;
      this.closeForDrain = true;
    }
    this.closeAfter = close;
    return close;
  }

  /** Malformed request: answer and close; the rest of the stream cannot be trusted. */
  private reject(reply: DirectResponseSnapshot): void {
    this.http = (this.ctx.listener as HttpListenerSnapshot).http;
    this.http.rqProtocolError.inc();
    this.startedAt = performance.now();
    this.wantClose = true;
    this.askedClose = false;
    this.isHead = false;
    this.http10KeepAlive = false;
    this.closeForDrain = false;
    this.phase = Phase.Active;
    this.reqDone = true;
    this.answer(reply);
    this.endExchange();
  }

  /** The response is fully written (to the socket's buffer): count its class, then next or close. */
  private endExchange(): void {
    const http = this.http;
    (http.rqByClass[(this.status / 100) | 0] as { inc(): void }).inc();
    http.rqTime.record((performance.now() - this.startedAt) * 1000);
    const rec = this.rec;
    if (rec !== null) {
      this.rec = null;
      this.logged(rec, this.status, this.exchange.responseFlags);
    }
    this.exchange.finish(this.ctx.clock.now);
    if (this.closeAfter || this.clientEnded) {
      this.gracefulClose();
      return;
    }
    if (this.drainAt !== Infinity && this.pending === null && Date.now() >= this.ctx.drainDeadline()) {
      // Past the drain deadline a connection is closed as soon as it is idle; this one's
      // response head went out keep-alive before its drain point, so it could not say so.
      this.ctx.listener.stats.cxDrainIdleClose.inc();
      this.gracefulClose();
      return;
    }
    this.phase = Phase.Idle;
    this.deadline = this.ctx.clock.now + this.ctx.timeouts.idleMs;
    if (this.paused !== Paused.No) {
      this.paused = Paused.No;
      this.socket.resume();
    }
    const p = this.pending;
    if (p !== null) {
      this.pending = null;
      this.serve(p, 0);
    }
  }

  /**
   * Ends our side once queued bytes are written; the peer gets LINGER_MS to close its side.
   * Except when the client asked for the close and there is nothing left to read or write: its
   * request was read to the end, no byte came after it, and the response is all in the kernel.
   * Then close(2) alone sends the response and our FIN, with no unread byte that would turn it
   * into a reset, and waiting for the client's FIN would only cost a shutdown(2), one more read
   * and its events. Measured at L7 with `Connection: close` (wrk -t1 -c50, nginx backend,
   * interleaved, DataPlane alone): 3.8k-4.5k → 6.6k-7.4k req/s, 0.35-0.42× → 0.62× nginx.
   */
  private gracefulClose(): void {
    if (this.phase === Phase.Closing || this.phase === Phase.Closed) return;
    if (this.closeForDrain) this.ctx.listener.stats.cxDrainClose.inc();
    if (this.askedClose && this.reqDone && this.pending === null && this.paused === Paused.No && this.socket.writableLength === 0) {
      this.phase = Phase.Closed;
      this.socket.destroy();
      return;
    }
    this.phase = Phase.Closing;
    this.pending = null;
    this.deadline = this.ctx.clock.now + LINGER_MS;
    if (this.paused !== Paused.No) {
      this.paused = Paused.No;
      this.socket.resume(); // keep reading (and dropping) so the peer's FIN is seen
    }
    this.socket.end();
  }
}

function ignoreError(): void {}
