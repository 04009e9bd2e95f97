/**
 * One HTTP/2 request stream: routed like an HTTP/1 request, answered directly or sent upstream
 * through its own `UpstreamExchange` as an HTTP/1.1 request (so pools, retries of stale
 * keep-alive connections, timeouts and stats are the HTTP/1 path's; an HTTP/2 cluster's pool
 * carries it on as HTTP/2). Request DATA frames become the upstream body (chunked when no
 * content-length came, or trailers are announced: then the stream's trailers end it as the
 * chunked trailer section); the response body is dechunked into DATA frames. Interim responses
 * (`100 Continue`) go on as informational HEADERS. Flow control both ways: a full upstream
 * socket pauses the stream, a full stream
 * pauses the upstream socket.
 */
import { constants, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { WorkerRouteTable } from '../connection-types.js';
import { BodyMode } from '../http/body.js';
import { Res, UpstreamExchange, type ExchangeOwner } from '../http/exchange.js';
import { policyOf } from '../http/retry.js';
import { headerFields, type MessageHead } from '../http/head.js';
import { RequestHeaderMap, ResponseHeaderMap } from '../http/header-map.js';
import { RequestRecord } from '../http/request-record.js';
import type { AccessLog } from '../access-log/types.js';
import type { Socket } from 'node:net';
import { REPLY_400, REPLY_404, REPLY_408 } from '../http/local-reply.js';
import { forwardedLines, lastChunkWithTrailers } from '../http/forwarded.js';
import { PATH_ESCAPED_SLASH, PATH_INVALID, PATH_UNCHANGED, normalizeTargetString, rewriteAuthority, rewritePath, selectRoute } from '../router/index.js';
import type { DirectResponseSnapshot, HttpStats, HttpTimeouts } from '../types.js';
import { ExchangeClocks, Stall } from '../http/exchange-clocks.js';
import { H2RouteRequest, downstreamResponseHeaders, interimResponseHeaders, upstreamRequestHead } from './headers.js';
import { resetStream } from './reset.js';

/** What a stream needs from its session. */
export interface StreamHost {
  readonly routeTable: WorkerRouteTable;
  readonly http: HttpStats;
  readonly clock: { readonly now: number };
  readonly upstreamResponseMs: number;
  /** The listener's timeouts (requestBody and send apply per stream). */
  readonly timeouts: HttpTimeouts;
  /** Access log of the listener (null: none), and what a record needs. */
  readonly accessLog: AccessLog | null;
  readonly listenerName: string;
  readonly socket: Socket;
  readonly connectionId: number;
  /** The client's address and the scheme it used, for the forwarded fields. */
  readonly clientIp: string;
  readonly scheme: 'http' | 'https';
  /** The client reset a stream before its response ended (counted, and judged for rapid reset). */
  streamReset(): void;
  streamDone(s: H2Stream): void;
}

const CRLF = Buffer.from('\r\n', 'latin1');
const LAST_CHUNK = Buffer.from('0\r\n\r\n', 'latin1');

export class H2Stream implements ExchangeOwner {
  readonly isHead: boolean;
  reqDone: boolean;
  readonly dechunk = true;
  /** Upgrades are an HTTP/1 mechanism (RFC 9113 8.6); an HTTP/2 stream never asks for one. */
  readonly upgrading = false;
  /** Coarse-clock ms past which the upstream has been silent too long; Infinity when not waiting. */
  deadline = Infinity;
  private exchange: UpstreamExchange | null = null;
  private chunked = false;
  /** The request's trailers (flat: name, value, ...), once they came (chunked bodies only). */
  private trailers: readonly string[] | null = null;
  private status = 0;
  private finished = false;
  private readonly startedAt = performance.now();
  private rec: RequestRecord | null = null;
  private readonly clocks = new ExchangeClocks();

  constructor(
    private readonly host: StreamHost,
    private readonly stream: ServerHttp2Stream,
    headers: IncomingHttpHeaders,
    rawHeaders: readonly string[],
    endStream: boolean,
  ) {
    this.isHead = headers[':method'] === 'HEAD';
    this.reqDone = endStream;
    host.http.rqTotal.inc();
    const log = host.accessLog;
    if (log !== null) {
      const rid = headers['x-request-id'];
      const rec = RequestRecord.start(log, host.listenerName, 'HTTP/2', host.socket, typeof rid === 'string' ? rid : undefined, host.connectionId);
      if (rec.wantsRequest) rec.request = RequestHeaderMap.fromFlat(rawHeaders);
      this.rec = rec;
    }
    stream.on('close', this.onClose);
    stream.on('error', ignoreError);
    const raw = headers[':path'];
    const table = host.routeTable;
    const n = raw === undefined || raw.charCodeAt(0) !== 47 ? PATH_INVALID : normalizeTargetString(raw, table.escapedSlashes, table.normalizePath);
    if (n === PATH_INVALID || n === PATH_ESCAPED_SLASH) {
      this.answer(REPLY_400); // CONNECT and `*` are not routed
      return;
    }
    const view = new H2RouteRequest(headers, n === PATH_UNCHANGED ? (raw as string) : n, host.scheme);
    const d = selectRoute(table, view);
    if (this.rec !== null && d.kind !== 'reject') this.rec.streamInfo.routeName = d.route.name;
    if (d.kind !== 'cluster') {
      if (d.kind === 'direct') this.answer(d.response);
      else if (d.kind === 'redirect') this.redirect(d.status, d.location);
      else this.answer(d.status === 400 ? REPLY_400 : REPLY_404);
      return;
    }
    const route = d.route;
    if (this.rec !== null) this.rec.streamInfo.clusterName = d.clusterName;
    const path = route.rewrites ? rewritePath(route, view.path) : view.path;
    const authority = route.hostRewrite !== null ? rewriteAuthority(route, view.authority) : view.authority;
    const xff = headers['x-forwarded-for'];
    const extra = forwardedLines(Array.isArray(xff) ? xff.join(', ') : (xff ?? ''), host.clientIp, host.scheme, headers['x-request-id'] !== undefined ? null : this.rec?.streamInfo.requestId);
    if (headers['x-request-id'] === undefined && this.rec !== null) this.rec.request?.set('x-request-id', this.rec.streamInfo.requestId);
    const req = upstreamRequestHead(headers, view.method, path, authority, endStream, extra);
    this.chunked = req.chunked;
    const exchange = new UpstreamExchange(this);
    this.exchange = exchange;
    if (!exchange.start(d.cluster, req.head, !endStream, policyOf(d.route))) stream.pause();
    if (!endStream) {
      this.clocks.bodyRead(host.clock.now, host.timeouts);
      stream.on('data', this.onData);
      stream.on('end', this.onEnd);
      if (this.chunked) stream.on('trailers', this.onTrailers);
    }
    stream.on('drain', this.onDrain);
  }

  /** The session's tick: the side that stalled is cut (http/exchange-clocks.ts says which clock applies). */
  onTick(now: number): void {
    if (this.finished) return;
    const t = this.host.timeouts;
    switch (this.clocks.check(now, this.stream, t, !this.reqDone && !this.stream.isPaused(), this.deadline)) {
      case Stall.Send:
        this.host.http.rqSendTimeout.inc();
        this.logged(this.status, 'SI');
        this.reset();
        return;
      case Stall.SendBlocked:
        this.deadline = Math.max(this.deadline, now + t.upstreamResponseMs); // the upstream waits for the client
        return;
      case Stall.Body:
        this.host.http.rqIdleTimeout.inc();
        this.bodyTimedOut();
        return;
      case Stall.Upstream:
        this.upstreamTimedOut();
        return;
      default:
    }
  }

  /** 408 when nothing of a response went out, then RST_STREAM(NO_ERROR) so the client stops sending (RFC 9113 8.1); else a reset. */
  private bodyTimedOut(): void {
    if (this.exchange?.cancel('SI') === true && !this.stream.headersSent) {
      this.reqDone = true; // no more of the body is wanted
      this.answer(REPLY_408);
      if (!this.stream.destroyed) this.stream.close(constants.NGHTTP2_NO_ERROR);
      return;
    }
    this.logged(this.status, 'SI');
    this.reset();
  }

  private upstreamTimedOut(): void {
    const ex = this.exchange;
    if (ex?.timedOut()) return;
    if (ex !== null && ex.res === Res.Body) this.host.http.rqResponseReset.inc();
    this.reset();
  }

  reset(): void {
    resetStream(this.stream);
  }

  // ---- request body ---------------------------------------------------------------------------

  private readonly onData = (chunk: Buffer): void => {
    const ex = this.exchange;
    if (ex === null || chunk.length === 0) return;
    this.clocks.bodyRead(this.host.clock.now, this.host.timeouts);
    if (this.rec !== null) this.rec.bytesReceived += chunk.length;
    let ok: boolean;
    if (this.chunked) {
      ex.writeBody(Buffer.from(`${chunk.length.toString(16)}\r\n`, 'latin1'));
      ex.writeBody(chunk);
      ok = ex.writeBody(CRLF);
    } else ok = ex.writeBody(chunk);
    if (!ok) this.stream.pause();
  };

  private readonly onEnd = (): void => {
    this.reqDone = true;
    const ex = this.exchange;
    if (ex === null) return;
    if (this.chunked) ex.writeBody(this.trailers === null ? LAST_CHUNK : lastChunkWithTrailers(this.trailers));
    if (ex.res === Res.Done) this.finish();
  };

  /** Before 'end': the trailers HEADERS frame carries END_STREAM, and 'end' comes a tick later. */
  private readonly onTrailers = (_trailers: IncomingHttpHeaders, _flags: number, raw: string[]): void => {
    this.trailers = raw;
  };

  private readonly onDrain = (): void => {
    this.exchange?.downstreamDrained();
  };

  private readonly onClose = (): void => {
    if (!this.finished) {
      // The client reset the stream (or the session went) before the response was complete.
      if (this.stream.rstCode !== constants.NGHTTP2_NO_ERROR) this.host.streamReset();
      this.finished = true;
      this.exchange?.abandon();
      this.logged(0, 'DR'); // the stream was reset before the response ended
      this.host.streamDone(this);
    }
  };

  // ---- ExchangeOwner --------------------------------------------------------------------------

  clientIp(): string {
    return this.host.clientIp;
  }

  waitUpstream(): void {
    this.deadline = this.host.clock.now + this.host.upstreamResponseMs;
  }

  sendInterim(buf: Buffer, start: number, end: number): void {
    // The upstream's `100 Continue` to a forwarded `expect` (or a 103) goes on as it is, as on HTTP/1.
    if (!this.stream.destroyed && !this.stream.headersSent) this.stream.additionalHeaders(interimResponseHeaders(buf, start, end));
  }

  sendHead(buf: Buffer, h: MessageHead, bodyEnd: number, mode: BodyMode): boolean {
    if (this.stream.destroyed) return true;
    this.status = h.status;
    const out = downstreamResponseHeaders(buf, h);
    this.stream.respond(out);
    const rec = this.rec;
    if (rec !== null) {
      if (rec.wantsResponse) rec.response = ResponseHeaderMap.fromFlat(headerFields(buf, h), h.status);
      if (mode !== BodyMode.None) rec.bytesSent += bodyEnd - h.headEnd;
    }
    if (mode !== BodyMode.None && bodyEnd > h.headEnd) return this.stream.write(buf.subarray(h.headEnd, bodyEnd));
    return true;
  }

  sendBody(buf: Buffer, start: number, end: number): boolean {
    if (this.stream.destroyed) return true;
    if (this.rec !== null) this.rec.bytesSent += end - start;
    return this.stream.write(start === 0 && end === buf.length ? buf : buf.subarray(start, end));
  }

  responseDone(status: number): void {
    this.status = status;
    this.deadline = Infinity;
    if (this.reqDone) this.finish();
  }

  localReply(reply: DirectResponseSnapshot): void {
    this.answer(reply);
  }

  resetMidResponse(): void {
    this.host.http.rqResponseReset.inc();
    this.logged(this.status, this.exchange?.responseFlags ?? ''); // the status that went out, and why it broke (UC, UT, UPE)
    this.reset();
  }

  upstreamDrained(): void {
    this.clocks.bodyRead(this.host.clock.now, this.host.timeouts); // the client's clock runs again from now
    this.stream.resume();
  }

  // ---- endings --------------------------------------------------------------------------------

  /** Answers with a pre-built response (its status and body; the HTTP/1 head is not used). */
  private answer(d: DirectResponseSnapshot): void {
    this.status = d.status;
    const s = this.stream;
    if (!s.destroyed && !s.headersSent) {
      const body = d.keepAlive.subarray(d.headBytes.keepAlive);
      s.respond({ ':status': d.status, 'content-type': 'text/plain', 'content-length': body.length }, { endStream: this.isHead || body.length === 0 });
      if (!this.isHead && body.length > 0) s.end(body);
      if (this.rec !== null && !this.isHead) this.rec.bytesSent += body.length;
    } else this.reset();
    if (this.exchange === null || this.reqDone) this.finish();
    else this.stream.resume(); // the rest of the request body is read and dropped
  }

  private redirect(status: number, location: string): void {
    this.status = status;
    const s = this.stream;
    if (!s.destroyed && !s.headersSent) s.respond({ ':status': status, location, 'content-length': 0 }, { endStream: true });
    this.finish();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.deadline = Infinity;
    const http = this.host.http;
    (http.rqByClass[(this.status / 100) | 0] as { inc(): void }).inc();
    http.rqTime.record((performance.now() - this.startedAt) * 1000);
    const ex = this.exchange;
    if (ex !== null) {
      if (ex.res === Res.Done && !this.stream.destroyed && !this.stream.writableEnded) this.stream.end();
      this.logged(this.status, ex.responseFlags);
      ex.finish(this.host.clock.now);
    } else this.logged(this.status, '');
    this.host.streamDone(this);
  }

  private logged(status: number, flags: string): void {
    const rec = this.rec;
    if (rec === null) return;
    this.rec = null;
    if (this.exchange !== null) rec.streamInfo.upstreamHost = this.exchange.upstreamHost;
    rec.finish(status, flags);
  }
}

function ignoreError(): void {}
