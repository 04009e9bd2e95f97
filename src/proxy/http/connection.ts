/**
 * The HTTP/1.1 connection manager for one downstream socket: what each request means. It routes
 * the request (router/), answers directly, or hands it to its upstream exchange (exchange.ts);
 * takes upgrades (a 101 makes the connection a tunnel) and, where allowed, CONNECT (connect.ts:
 * the upstream's 2xx makes it a tunnel); runs the listener's HTTP filters when it
 * has any (h1-filtered.ts); and keeps the access-log record. The socket, pipelining, keep-alive,
 * drain and close are `H1Connection`'s (connection-base.ts); its deadlines are
 * `TimedH1Connection`'s (connection-timeouts.ts), which calls the three *TimedOut/Cut hooks.
 */
import type { ConnectionContext, WorkerRouteTable } from '../connection-types.js';
import type { Socket } from 'node:net';
import { nextConnectionId, type AccessLog } from '../access-log/index.js';
import { Http1RouteRequest, routeHttp1, type ClusterDecision } from '../router/index.js';
import type { DirectResponseSnapshot, HttpListenerSnapshot } from '../types.js';
import type { ClusterRuntime } from '../upstream/cluster.js';
import { BAD_FRAMING, BodyMode, NEED_MORE } from './body.js';
import { CONNECT_REFUSED, http1ConnectView, isConnect, routeConnect } from './connect.js';
import { Paused, Phase } from './connection-state.js';
import { TimedH1Connection } from './connection-timeouts.js';
import { Res, UpstreamExchange, type TunnelOwner } from './exchange.js';
import type { FilterChainFactory } from './filter-chain-types.js';
import { H1Filtered, type FilteredConnection } from './h1-filtered.js';
import { headerFields, type MessageHead } from './head.js';
import { RequestHeaderMap, ResponseHeaderMap } from './header-map.js';
import { REPLY_400, REPLY_404, REPLY_408, redirectReply } from './local-reply.js';
import { RequestRecord } from './request-record.js';
import { policyOf } from './retry.js';
import { CONNECTION_CLOSE, CONNECTION_KEEP_ALIVE, rewriteHead } from './rewrite.js';
import { upstreamHead } from './upstream-head.js';

export class HttpConnection extends TimedH1Connection implements TunnelOwner, FilteredConnection {
  /** HTTP/1.1 gets chunked framing as it is; an HTTP/1.0 client the payload, close-delimited. */
  dechunk = false;
  private readonly exchange: UpstreamExchange = new UpstreamExchange(this);
  /** The current request asks to upgrade (`Connection: upgrade` with `Upgrade`, no body). */
  upgrading = false;
  /** The current request is a CONNECT being forwarded: a 2xx opens the tunnel. */
  connecting = false;
  /** Became a tunnel (it never goes back). */
  private tunneled = false;
  /** The router's view of the current request (reset per request, no allocation). */
  private readonly routeReq = new Http1RouteRequest();
  /** Requests through HTTP filters (made on the first one). */
  private filtered: H1Filtered | null = null;
  /** The current request's access-log record (raw path, listeners with a log only). */
  private rec: RequestRecord | null = null;
  private connectionId = 0;

  constructor(socket: Socket, ctx: ConnectionContext) {
    super(socket, ctx);
    this.routeReq.scheme = this.scheme;
  }

  // ---- requests -------------------------------------------------------------------------------

  protected startRequest(buf: Buffer, end: number): number {
    const h = this.req;
    const ctx = this.ctx;
    this.beginRequest();
    this.dechunk = h.version === 10;
    this.upgrading = h.connUpgrade && h.upgradeLine >= 0 && !h.connClose && h.contentLength <= 0 && !h.chunked;
    this.connecting = false;
    const listener = ctx.listener as HttpListenerSnapshot;
    if (isConnect(buf, h)) return this.startConnect(listener, buf, end);
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
    const rec = this.rec;
    if (rec !== null) rec.streamInfo.clusterName = d.clusterName;
    const out = upstreamHead(buf, this.req, d.route, this.routeReq, bodyEnd, this.upgrading, this.clientIp(), this.scheme, rec);
    if (!this.exchange.start(d.cluster, out, !this.reqDone, policyOf(d.route))) this.pauseReads(Paused.Upstream);
  }

  /** A CONNECT: forwarded as it came (its bytes after the head wait for the tunnel), or refused and closed. */
  private startConnect(listener: HttpListenerSnapshot, buf: Buffer, end: number): number {
    this.reqDone = true; // a CONNECT has no body: what follows its head is the tunnel's
    this.rec = null;
    const v = listener.config.allowConnect === true ? routeConnect(this.ctx.routeTable as WorkerRouteTable, http1ConnectView(this.routeReq, buf, this.req)) : CONNECT_REFUSED;
    if (v.cluster === null) {
      this.reject(v.reply, false); // what follows the head would be tunnel bytes, never a request
      return -1;
    }
    this.upgrading = true;
    this.connecting = true;
    if (!this.exchange.start(v.cluster, rewriteHead(buf, this.req, null, end), false, null)) this.pauseReads(Paused.Upstream);
    return end;
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
    this.filtered ??= new H1Filtered(this, this.ctx, this.reqBody);
    const f = this.filtered;
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
  protected requestBody(buf: Buffer, pos: number): void {
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

  // ---- ExchangeOwner ------------------------------------------------------------------------

  waitUpstream(): void {
    this.deadline = this.ctx.clock.now + this.ctx.timeouts.upstreamResponseMs;
  }

  sendInterim(buf: Buffer, start: number, end: number): void {
    if (this.req.version === 11) this.socket.write(buf.subarray(start, end));
  }

  sendHead(buf: Buffer, h: MessageHead, bodyEnd: number, mode: BodyMode): boolean {
    // Close when the framing needs it, the request is not all read, or the drain says so.
    // A refused CONNECT closes too: the client may have sent tunnel bytes after it.
    const close = this.decideClose(mode === BodyMode.UntilClose || !this.reqDone || this.connecting || (this.req.version === 10 && mode === BodyMode.Chunked));
    const inject = close ? CONNECTION_CLOSE : this.http10KeepAlive ? CONNECTION_KEEP_ALIVE : null;
    this.status = h.status; // for a log line written if the response breaks
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
    this.answer(reply, this.connecting); // after a CONNECT, tunnel bytes may follow: never parse them
    if (this.reqDone || this.closeAfter) this.endExchange();
  }

  startTunnel(buf: Buffer, start: number, end: number, status: number): void {
    const http = this.http;
    this.phase = Phase.Tunnel;
    this.tunneled = true;
    this.status = status;
    (http.rqByClass[(status / 100) | 0] as { inc(): void }).inc();
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
    const rec = this.rec;
    if (rec !== null) {
      this.rec = null;
      this.logged(rec, this.status, this.exchange.responseFlags); // the status that went out, and why it broke (UC, UT, UPE)
    }
    this.destroy();
  }

  // ---- H1Connection hooks ---------------------------------------------------------------------

  protected exchangeTimedOut(now: number): void {
    if (this.filtered?.fx != null) {
      this.filtered.fx.onTick(now);
      return;
    }
    if (!this.exchange.timedOut()) {
      if (this.exchange.res === Res.Body) this.http.rqResponseReset.inc();
      this.destroy(); // a stalled body in either direction
    }
  }

  protected bodyTimedOut(): void {
    if (this.responded) {
      // Answered already (a direct response, or the upstream before the body's end): the
      // response is out, the rest of the body will not come; close after it.
      this.closeAfter = true;
      if (this.filtered?.fx == null) this.endExchange();
      else this.destroy();
      return;
    }
    if (this.filtered?.fx == null && this.exchange.cancel('SI')) {
      this.answer(REPLY_408, true); // nothing of a response went out: the client can be told
      this.endExchange();
      return;
    }
    this.timedOutCut();
  }

  protected timedOutCut(): void {
    const rec = this.rec;
    if (rec !== null) {
      this.rec = null;
      this.logged(rec, this.status, 'SI');
    }
    this.destroy();
  }

  protected tunnelIn(chunk: Buffer): void {
    if (!this.exchange.writeBody(chunk)) this.pauseReads(Paused.Upstream);
  }

  protected tunnelClientEnded(): void {
    this.exchange.endUpstream();
  }

  protected downstreamDrained(): void {
    this.exchange.downstreamDrained();
    this.filtered?.fx?.upstream?.downstreamDrained();
  }

  protected exchangeEnded(): void {
    const rec = this.rec;
    if (rec !== null) {
      this.rec = null;
      this.logged(rec, this.status, this.exchange.responseFlags);
    }
    this.exchange.finish(this.ctx.clock.now);
  }

  protected abandon(closed: boolean): void {
    if (closed && this.tunneled) this.http.cxUpgradesActive.dec();
    this.exchange.abandon(); // mid-way, the upstream socket cannot be reused
    this.filtered?.destroy();
    const rec = this.rec;
    if (rec !== null && closed) {
      this.rec = null;
      this.logged(rec, 0, 'DC'); // the connection ended before the response did
    }
  }

  protected answered(bodyBytes: number): void {
    if (this.rec !== null) this.rec.bytesSent += bodyBytes;
  }

  /** A tunnel cannot be asked to close in-band: at a forcing drain's deadline it is destroyed. */
  get forcedAtDrainDeadline(): boolean {
    return this.phase === Phase.Tunnel;
  }
}
