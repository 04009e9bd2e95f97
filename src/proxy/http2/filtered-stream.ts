/**
 * An HTTP/2 stream on a listener with HTTP filters: its headers and DATA frames go through a
 * `FilteredExchange` (the chain, then the router and upstream), and the response the filters
 * produce comes back here (`DownstreamSink`) as HEADERS and DATA frames. Request trailers go
 * through the chain's `decodeTrailers`; the upstream's 1xx go straight to the client.
 */
import { constants, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import type { WorkerRouteTable } from '../connection-types.js';
import type { DownstreamSink, FilterChainFactory } from '../http/filter-chain-types.js';
import type { HeaderMap, ResponseHeaders } from '../http/filter.js';
import { FilteredExchange, type FilteredHost } from '../http/filtered-exchange.js';
import { HeaderMapImpl, RequestHeaderMap } from '../http/header-map.js';
import { ExchangeInfo } from '../http/stream-info.js';
import type { HttpStats } from '../types.js';
import type { AccessLog } from '../access-log/types.js';
import { headerObject, interimResponseHeaders, NOT_IN_H2_RESPONSE } from './headers.js';
import { resetStream } from './reset.js';

/** What a filtered stream needs from its session. */
export interface FilteredStreamHost {
  readonly routeTable: WorkerRouteTable;
  readonly http: HttpStats;
  readonly listenerName: string;
  readonly socket: Socket;
  readonly clock: { readonly now: number };
  readonly upstreamResponseMs: number;
  readonly clientIp: string;
  readonly scheme: 'http' | 'https';
  readonly accessLog: AccessLog | null;
  readonly connectionId: number;
  /** The client reset a stream before its response ended (counted, and judged for rapid reset). */
  streamReset(): void;
  streamDone(s: FilteredStream): void;
}

export class FilteredStream implements FilteredHost, DownstreamSink {
  private readonly fx: FilteredExchange;
  private status = 0;
  private responded = false;
  private done = false;
  private readonly startedAt = performance.now();
  /** The request's trailers (flat), once they came: they end the request instead of an empty DATA. */
  private trailers: readonly string[] | null = null;

  constructor(
    private readonly host: FilteredStreamHost,
    private readonly stream: ServerHttp2Stream,
    headers: IncomingHttpHeaders,
    rawHeaders: readonly string[],
    endStream: boolean,
    chains: FilterChainFactory,
  ) {
    host.http.rqTotal.inc();
    const rid = headers['x-request-id'];
    const info = new ExchangeInfo(host.listenerName, 'HTTP/2', host.socket, typeof rid === 'string' ? rid : undefined);
    this.fx = new FilteredExchange(this, chains, info, this, host.accessLog, host.accessLog === null ? 0 : host.connectionId);
    stream.on('close', this.onClose);
    stream.on('error', ignoreError);
    stream.on('drain', this.onDrain);
    if (!endStream) {
      stream.on('data', this.onData);
      stream.on('end', this.onEnd);
      stream.on('trailers', this.onTrailers);
    }
    this.fx.chain.decodeHeaders(RequestHeaderMap.fromFlat(rawHeaders), endStream);
    if (endStream) this.requestRead();
  }

  get routeTable(): WorkerRouteTable {
    return this.host.routeTable;
  }

  get clock(): { readonly now: number } {
    return this.host.clock;
  }

  get upstreamResponseMs(): number {
    return this.host.upstreamResponseMs;
  }

  get clientIp(): string {
    return this.host.clientIp;
  }

  get scheme(): 'http' | 'https' {
    return this.host.scheme;
  }

  onTick(now: number): void {
    this.fx.onTick(now);
  }

  reset(): void {
    resetStream(this.stream);
  }

  // ---- FilteredHost ---------------------------------------------------------------------------

  pauseRequest(): void {
    this.stream.pause();
  }

  resumeRequest(): void {
    this.stream.resume();
  }

  exchangeBroken(): void {
    this.host.http.rqResponseReset.inc();
    this.reset();
  }

  sendInterim(buf: Buffer, start: number, end: number): void {
    const s = this.stream;
    if (!s.destroyed && !s.headersSent) s.additionalHeaders(interimResponseHeaders(buf, start, end));
  }

  // ---- DownstreamSink -------------------------------------------------------------------------

  encodeHeaders(headers: ResponseHeaders, endStream: boolean): void {
    this.status = headers.status;
    this.fx.noteResponse(headers);
    const s = this.stream;
    if (s.destroyed || s.headersSent) return;
    // The same rules as the unfiltered path: no prototype, and nothing HTTP/2 refuses to send
    // (a filter or the upstream may have put `te` or `http2-settings` there).
    const out = headerObject(headers.status);
    headers.forEach((name, value) => {
      if (NOT_IN_H2_RESPONSE.has(name)) return;
      const prev = out[name];
      if (prev === undefined) out[name] = name === 'set-cookie' ? [value] : value;
      else if (Array.isArray(prev)) prev.push(value);
      else out[name] = `${String(prev)}, ${value}`;
    });
    s.respond(out, { endStream });
    if (endStream) this.responseSent();
  }

  encodeData(data: Buffer, endStream: boolean): void {
    this.fx.noteSent(data.length);
    const s = this.stream;
    if (!s.destroyed) {
      if (data.length > 0 && !s.write(data)) this.fx.upstream?.downstreamFull();
      if (endStream) s.end();
    }
    if (endStream) this.responseSent();
  }

  encodeTrailers(_trailers: HeaderMap): void {
    this.encodeData(Buffer.alloc(0), true);
  }

  // ---- stream events --------------------------------------------------------------------------

  private readonly onData = (chunk: Buffer): void => {
    if (chunk.length === 0) return;
    this.fx.noteReceived(chunk.length);
    this.fx.chain.decodeData(chunk, false);
  };

  /** Before 'end' (see stream.ts). */
  private readonly onTrailers = (_trailers: IncomingHttpHeaders, _flags: number, raw: string[]): void => {
    this.trailers = raw;
  };

  private readonly onEnd = (): void => {
    const t = this.trailers;
    if (t === null) this.fx.chain.decodeData(Buffer.alloc(0), true);
    else this.fx.chain.decodeTrailers(HeaderMapImpl.fromFlat(t));
    this.requestRead();
  };

  private readonly onDrain = (): void => {
    this.fx.upstream?.downstreamDrained();
  };

  private readonly onClose = (): void => {
    if (this.done) return;
    this.done = true;
    if (this.stream.rstCode !== constants.NGHTTP2_NO_ERROR) this.host.streamReset();
    this.fx.destroy();
    this.host.streamDone(this);
  };

  private requestRead(): void {
    this.fx.reqDone = true;
    this.maybeFinish();
  }

  private responseSent(): void {
    this.responded = true;
    this.maybeFinish();
  }

  private maybeFinish(): void {
    if (this.done || !this.responded || !this.fx.reqDone) return;
    this.done = true;
    const http = this.host.http;
    (http.rqByClass[(this.status / 100) | 0] as { inc(): void }).inc();
    http.rqTime.record((performance.now() - this.startedAt) * 1000);
    this.fx.complete();
    this.host.streamDone(this);
  }
}

function ignoreError(): void {}
