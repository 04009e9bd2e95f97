/**
 * One downstream HTTP/2 connection (h2c with prior knowledge, or h2 chosen by ALPN over TLS):
 * node:http2 (nghttp2) does the framing, flow control and HPACK; this class routes each stream
 * (stream.ts) and drives the session's lifetime: idle timeout, drain, close.
 *
 * Drain is a graceful GOAWAY in two steps: the first carries the highest possible stream id, so
 * requests already in flight towards us are still served; after a PING round trip (or a second,
 * whichever is first) `close()` sends the second with the last stream id really seen, and the
 * session ends once its open streams have finished.
 */
import { constants, performServerHandshake, type IncomingHttpHeaders, type ServerHttp2Session, type ServerHttp2Stream, type ServerOptions } from 'node:http2';
import { clientAddress } from '../client-address.js';
import type { Socket } from 'node:net';
import { schemeOf } from '../http/forwarded.js';
import type { ConnectionContext, DownstreamConnection, WorkerRouteTable } from '../connection-types.js';
import { nextConnectionId, type AccessLog } from '../access-log/index.js';
import type { HttpListenerSnapshot, HttpStats, HttpTimeouts } from '../types.js';
import { SessionAbuseGuard } from './abuse.js';
import { H2ConnectStream, type ConnectStreamHost } from './connect-stream.js';
import { FilteredStream, type FilteredStreamHost } from './filtered-stream.js';
import { H2Stream, type StreamHost } from './stream.js';

const MAX_STREAM_ID = 2 ** 31 - 1;
/** Longest wait for the PING answer between the two GOAWAYs. */
const GOAWAY_GAP_MS = 1_000;

/** Session settings: limits as nginx and Envoy ship them, with heads capped like HTTP/1's. */
function sessionOptions(l: HttpListenerSnapshot): ServerOptions {
  return {
    settings: { maxConcurrentStreams: 128, maxHeaderListSize: l.headBytes, enablePush: false },
    maxHeaderListPairs: l.headFields + 4, // the pseudo-headers count too
    maxSessionInvalidFrames: 100,
    maxSessionRejectedStreams: 100,
    maxOutstandingPings: 10,
    maxSettings: 32,
  };
}

/** A header list over the listener's limits: its size as HPACK counts it (RFC 7541 4.1), or its fields. */
function overLimits(raw: readonly string[], l: HttpListenerSnapshot): boolean {
  if (raw.length / 2 > l.headFields + 4) return true; // the pseudo-headers count too
  let size = 0;
  for (let i = 0; i < raw.length; i++) size += (raw[i] as string).length + (i % 2 === 1 ? 32 : 0);
  return size > l.headBytes;
}

function ignoreError(): void {}

type AnyStream = H2Stream | FilteredStream | H2ConnectStream;

export class Http2Connection implements DownstreamConnection, StreamHost, FilteredStreamHost, ConnectStreamHost {
  private readonly session: ServerHttp2Session;
  private readonly guard: SessionAbuseGuard;
  private readonly streams = new Set<AnyStream>();
  private deadline: number;
  private drainAt: number;
  private goingAway = false;
  /** The stream being made by `onStream` finished in its constructor (a direct answer). */
  private doneAtOnce = false;
  private closed = false;
  private connId = 0;
  readonly http: HttpStats;
  readonly clientIp: string;
  readonly scheme: 'http' | 'https';

  constructor(
    readonly socket: Socket,
    private readonly ctx: ConnectionContext,
  ) {
    this.http = (ctx.listener as HttpListenerSnapshot).http;
    this.http.cxHttp2Active.inc();
    this.drainAt = ctx.drainAtForNew();
    this.deadline = ctx.clock.now + ctx.timeouts.idleMs;
    socket.setNoDelay(true);
    this.clientIp = clientAddress(socket);
    this.scheme = schemeOf(socket);
    this.session = performServerHandshake(socket, sessionOptions(ctx.listener as HttpListenerSnapshot));
    this.guard = new SessionAbuseGuard(this.session, this.http.h2Abuse, ctx.clock);
    this.session.on('stream', this.onStream);
    this.session.on('error', this.onError);
    this.session.on('close', this.onClose);
    socket.on('close', this.onClose);
  }

  get routeTable(): WorkerRouteTable {
    return this.ctx.routeTable as WorkerRouteTable;
  }

  get clock(): { readonly now: number } {
    return this.ctx.clock;
  }

  get upstreamResponseMs(): number {
    return this.ctx.timeouts.upstreamResponseMs;
  }

  get timeouts(): HttpTimeouts {
    return this.ctx.timeouts;
  }

  // ---- DownstreamConnection -------------------------------------------------------------------

  onTick(now: number): void {
    for (const s of this.streams) s.onTick(now);
    if (!this.goingAway && this.drainAt !== Infinity && Date.now() >= this.drainAt) this.goAway();
    if (this.streams.size === 0 && now >= this.deadline) {
      this.http.cxIdleTimeout.inc();
      this.deadline = Infinity; // once: the session stays in the set until its GOAWAY and close are done
      this.session.close();
    }
  }

  drain(at: number): void {
    if (at < this.drainAt) this.drainAt = at;
  }

  closeIfIdle(): boolean {
    if (this.streams.size > 0) return false;
    this.ctx.listener.stats.cxDrainIdleClose.inc();
    this.goingAway = true;
    this.session.close();
    return true;
  }

  destroy(): void {
    for (const s of this.streams) s.reset();
    this.session.destroy();
    this.socket.destroy();
  }

  // ---- StreamHost ------------------------------------------------------------------------------

  get accessLog(): AccessLog | null {
    return this.ctx.listener.accessLog;
  }

  /** For access logs: taken on first use, so connections on listeners without one pay nothing. */
  get connectionId(): number {
    if (this.connId === 0) this.connId = nextConnectionId();
    return this.connId;
  }

  get listenerName(): string {
    return this.ctx.listener.name;
  }

  streamReset(): void {
    this.http.rxReset.inc();
    if (!this.closed) this.guard.streamReset(); // not the resets of a session already going
  }

  get idleMs(): number {
    return this.ctx.timeouts.idleMs;
  }

  get allowConnect(): boolean {
    return (this.ctx.listener as HttpListenerSnapshot).config.allowConnect === true;
  }

  streamDone(s: AnyStream): void {
    // Every open stream is in the set but the one `onStream` is still making.
    if (!this.streams.delete(s)) this.doneAtOnce = true;
    if (this.streams.size === 0) this.deadline = this.ctx.clock.now + this.ctx.timeouts.idleMs;
  }

  // ---- session events --------------------------------------------------------------------------

  private readonly onStream = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, flags: number, rawHeaders: string[]): void => {
    // The listener's routes and filters are read once per stream, as HTTP/1 reads them per request.
    const end = (flags & constants.NGHTTP2_FLAG_END_STREAM) !== 0;
    this.guard.streamOpened();
    const l = this.ctx.listener as HttpListenerSnapshot;
    if (overLimits(rawHeaders, l)) {
      // SETTINGS_MAX_HEADER_LIST_SIZE is advisory to nghttp2: the limit is enforced here.
      this.http.rqTotal.inc();
      (this.http.rqByClass[4] as { inc(): void }).inc();
      stream.on('error', ignoreError);
      stream.respond({ ':status': 431 }, { endStream: true });
      return;
    }
    const chains = l.filterChain;
    this.doneAtOnce = false;
    const s =
      headers[':method'] === 'CONNECT' ? new H2ConnectStream(this, stream, headers) : chains.isEmpty ? new H2Stream(this, stream, headers, rawHeaders, end) : new FilteredStream(this, stream, headers, rawHeaders, end, chains);
    // One answered at once stays out, or the session would never be idle again.
    if (!this.doneAtOnce && !stream.closed && !stream.destroyed) this.streams.add(s);
    if (!this.goingAway && this.drainAt !== Infinity && Date.now() >= this.drainAt) this.goAway();
  };

  private readonly onError = (err: NodeJS.ErrnoException): void => {
    // nghttp2 ends a session that floods or breaks the protocol with GOAWAY; the guard counts those.
    this.guard.sessionError(err);
  };

  private readonly onClose = (): void => {
    if (this.closed) return;
    this.closed = true;
    this.http.cxHttp2Active.dec();
    for (const s of [...this.streams]) s.reset();
    this.ctx.onClosed(this);
  };

  private goAway(): void {
    this.goingAway = true;
    this.ctx.listener.stats.cxDrainClose.inc();
    const session = this.session;
    if (session.closed || session.destroyed) return;
    session.goaway(constants.NGHTTP2_NO_ERROR, MAX_STREAM_ID);
    let done = false;
    const second = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (!session.closed && !session.destroyed) session.close();
    };
    const timer = setTimeout(second, GOAWAY_GAP_MS);
    if (!session.ping(second)) second();
  }
}
