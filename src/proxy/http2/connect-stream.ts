/**
 * An HTTP/2 CONNECT stream (RFC 9113 8.5) on a listener with `allowConnect` (http/connect.ts
 * says where it goes): the CONNECT goes to an HTTP/1.1 upstream as it came, and once the
 * upstream answers 2xx the stream's DATA frames and the upstream's bytes pass through both
 * ways; the client's END_STREAM is the upstream's FIN and the upstream's close ends the stream.
 * A tunnel with no byte either way for the idle timeout is reset, as an HTTP/1 tunnel is closed.
 * Any other answer is relayed as a response. Without the opt-in the stream gets 403.
 */
import { constants, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import { BodyMode } from '../http/body.js';
import { CONNECT_REFUSED, routeConnect } from '../http/connect.js';
import { UpstreamExchange, type TunnelOwner } from '../http/exchange.js';
import type { MessageHead } from '../http/head.js';
import type { DirectResponseSnapshot } from '../types.js';
import { H2RouteRequest, downstreamResponseHeaders, upstreamRequestHead } from './headers.js';
import type { StreamHost } from './stream.js';
import { resetStream } from './reset.js';

export interface ConnectStreamHost extends Omit<StreamHost, 'streamDone'> {
  readonly allowConnect: boolean;
  /** The idle timeout (ms) of a tunnel. */
  readonly idleMs: number;
  streamDone(s: H2ConnectStream): void;
}

export class H2ConnectStream implements TunnelOwner {
  readonly isHead = false;
  readonly reqDone = true;
  readonly dechunk = true;
  readonly upgrading = true;
  readonly connecting = true;
  private exchange: UpstreamExchange | null = null;
  private tunnel = false;
  private finished = false;
  private deadline = Infinity;
  private readonly startedAt = performance.now();

  constructor(
    private readonly host: ConnectStreamHost,
    private readonly stream: ServerHttp2Stream,
    headers: IncomingHttpHeaders,
  ) {
    host.http.rqTotal.inc();
    stream.on('close', this.onClose);
    stream.on('error', ignoreError);
    const authority = headers[':authority'] ?? '';
    const v = host.allowConnect ? routeConnect(host.routeTable, new H2RouteRequest(headers, '/', host.scheme)) : CONNECT_REFUSED;
    if (v.cluster === null) {
      this.localReply(v.reply);
      return;
    }
    const exchange = new UpstreamExchange(this);
    this.exchange = exchange;
    stream.pause(); // nothing goes upstream before the tunnel is open
    stream.on('data', this.onData);
    stream.on('end', this.onEnd);
    stream.on('drain', this.onDrain);
    exchange.start(v.cluster, upstreamRequestHead(headers, 'CONNECT', authority, authority, true, '').head, false, null);
  }

  onTick(now: number): void {
    if (now < this.deadline || this.finished) return;
    if (!this.tunnel && this.exchange !== null && this.exchange.timedOut()) return;
    this.reset();
  }

  reset(): void {
    resetStream(this.stream);
  }

  // ---- the client's side of the tunnel --------------------------------------------------------

  private readonly onData = (chunk: Buffer): void => {
    this.deadline = this.host.clock.now + this.host.idleMs;
    if (this.exchange !== null && !this.exchange.writeBody(chunk)) this.stream.pause();
  };

  private readonly onEnd = (): void => {
    this.exchange?.endUpstream();
  };

  private readonly onDrain = (): void => {
    this.exchange?.downstreamDrained();
  };

  private readonly onClose = (): void => {
    if (this.finished) return;
    if (!this.tunnel && this.stream.rstCode !== constants.NGHTTP2_NO_ERROR) this.host.streamReset();
    this.exchange?.abandon();
    this.done();
  };

  // ---- TunnelOwner ----------------------------------------------------------------------------

  clientIp(): string {
    return this.host.clientIp;
  }

  waitUpstream(): void {
    this.deadline = this.host.clock.now + this.host.upstreamResponseMs;
  }

  sendInterim(): void {}

  startTunnel(buf: Buffer, start: number, end: number, status: number): void {
    this.tunnel = true;
    this.deadline = this.host.clock.now + this.host.idleMs;
    const http = this.host.http;
    (http.rqByClass[(status / 100) | 0] as { inc(): void }).inc();
    http.rqTime.record((performance.now() - this.startedAt) * 1000);
    http.cxUpgradesTotal.inc();
    http.cxUpgradesActive.inc();
    const s = this.stream;
    if (s.destroyed) return;
    s.respond({ ':status': status });
    const headEnd = buf.indexOf(HEAD_END, start) + 4; // the head parsed, so it is there
    if (headEnd < end && !s.write(buf.subarray(headEnd, end))) this.exchange?.downstreamFull();
    s.resume();
  }

  tunnelData(chunk: Buffer): boolean {
    this.deadline = this.host.clock.now + this.host.idleMs;
    return this.stream.destroyed || this.stream.write(chunk);
  }

  tunnelEnded(): void {
    if (!this.stream.destroyed) this.stream.end();
  }

  sendHead(buf: Buffer, h: MessageHead, bodyEnd: number, mode: BodyMode): boolean {
    if (this.stream.destroyed) return true;
    this.stream.respond(downstreamResponseHeaders(buf, h));
    if (mode !== BodyMode.None && bodyEnd > h.headEnd) return this.stream.write(buf.subarray(h.headEnd, bodyEnd));
    return true;
  }

  sendBody(buf: Buffer, start: number, end: number): boolean {
    return this.stream.destroyed || this.stream.write(buf.subarray(start, end));
  }

  responseDone(status: number): void {
    if (!this.stream.destroyed) this.stream.end();
    this.count(status);
    this.done();
  }

  localReply(d: DirectResponseSnapshot): void {
    const s = this.stream;
    if (!s.destroyed && !s.headersSent) {
      const body = d.keepAlive.subarray(d.headBytes.keepAlive);
      s.respond({ ':status': d.status, 'content-type': 'text/plain', 'content-length': body.length });
      s.end(body);
    }
    this.count(d.status);
    this.done();
  }

  resetMidResponse(): void {
    this.host.http.rqResponseReset.inc();
    this.reset();
  }

  upstreamDrained(): void {
    if (this.tunnel) this.stream.resume();
  }

  // ---- endings --------------------------------------------------------------------------------

  /** A response other than the tunnel's, counted by its class. */
  private count(status: number): void {
    const http = this.host.http;
    (http.rqByClass[(status / 100) | 0] as { inc(): void }).inc();
    http.rqTime.record((performance.now() - this.startedAt) * 1000);
  }

  private done(): void {
    if (this.finished) return;
    this.finished = true;
    this.deadline = Infinity;
    if (this.tunnel) this.host.http.cxUpgradesActive.dec();
    this.exchange?.finish(this.host.clock.now);
    this.host.streamDone(this);
  }
}

const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');

function ignoreError(): void {}
