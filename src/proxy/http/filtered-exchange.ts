/**
 * One request on a listener with HTTP filters, for either codec: the request runs through the
 * filter chain as header maps and payload (no chunk framing), then this, the chain's terminal,
 * routes it (router/), answers directly, or sends it to an HTTP/1.1 upstream through its own
 * `UpstreamExchange`; the response comes back through the chain's encoders to the codec's
 * `DownstreamSink`. Listeners without filters never get here: their codecs keep the raw path.
 */
import type { WorkerRouteTable } from '../connection-types.js';
import { PATH_ESCAPED_SLASH, PATH_INVALID, PATH_UNCHANGED, normalizeTargetString, queryParam, rewriteAuthority, rewritePath, selectRoute } from '../router/index.js';
import type { RouteRequest } from '../router/types.js';
import type { DirectResponseSnapshot } from '../types.js';
import { BodyMode } from './body.js';
import { Res, UpstreamExchange, type ExchangeOwner } from './exchange.js';
import type { FilterChainApi, FilterChainFactory, ChainTerminal, DownstreamSink } from './filter-chain-types.js';
import type { HeaderMap, RequestHeaders, ResponseHeaders } from './filter.js';
import type { AccessLog } from '../access-log/types.js';
import { RequestRecord } from './request-record.js';
import { NOT_FORWARDED, NOT_RELAYED, forwardedLines, lastChunkWithTrailers } from './forwarded.js';
import { policyOf } from './retry.js';
import { headerFields, type MessageHead } from './head.js';
import { ResponseHeaderMap } from './header-map.js';
import type { ExchangeInfo } from './stream-info.js';

const CRLF = Buffer.from('\r\n', 'latin1');
const LAST_CHUNK = Buffer.from('0\r\n\r\n', 'latin1');
const EMPTY = Buffer.alloc(0);

/** What the codec gives a filtered exchange. */
export interface FilteredHost {
  readonly routeTable: WorkerRouteTable;
  readonly clock: { readonly now: number };
  readonly upstreamResponseMs: number;
  readonly clientIp: string;
  readonly scheme: 'http' | 'https';
  /** Request-body backpressure towards the client. */
  pauseRequest(): void;
  resumeRequest(): void;
  /** The response broke after its head went out: the codec resets the stream or connection. */
  exchangeBroken(): void;
  /** An interim (1xx) head of the upstream, buf[start, end): relayed as the codec can (filters see no 1xx). */
  sendInterim(buf: Buffer, start: number, end: number): void;
}

export class FilteredExchange implements ChainTerminal, ExchangeOwner {
  readonly chain: FilterChainApi;
  readonly dechunk = true;
  readonly upgrading = false;
  isHead = false;
  reqDone = false;
  /** Coarse-clock ms past which the upstream has been silent too long. */
  deadline = Infinity;
  private exchange: UpstreamExchange | null = null;
  private chunked = false;
  private ended = false;
  private status = 0;

  /** The access-log record, on listeners with a log. */
  readonly rec: RequestRecord | null;

  constructor(
    private readonly host: FilteredHost,
    chains: FilterChainFactory,
    readonly info: ExchangeInfo,
    sink: DownstreamSink,
    log: AccessLog | null,
    connectionId: number,
  ) {
    this.rec = log === null ? null : new RequestRecord(log, info, connectionId);
    this.chain = chains.create(info, this, sink);
  }

  /** What the codec's sink sent: the response head (after every filter) and body bytes. */
  noteResponse(headers: ResponseHeaders): void {
    this.status = headers.status;
    if (this.rec?.wantsResponse === true) this.rec.response = headers;
  }

  noteSent(bytes: number): void {
    if (this.rec !== null) this.rec.bytesSent += bytes;
  }

  noteReceived(bytes: number): void {
    if (this.rec !== null) this.rec.bytesReceived += bytes;
  }

  private logged(status: number): void {
    const rec = this.rec;
    if (rec === null) return;
    const ex = this.exchange;
    if (ex !== null) this.info.upstreamHost = ex.upstreamHost;
    rec.finish(status, ex === null ? '' : ex.responseFlags);
  }

  /** The upstream exchange, for the codec's drain events (null before routing or when answered directly). */
  get upstream(): UpstreamExchange | null {
    return this.exchange;
  }

  onTick(now: number): void {
    if (now < this.deadline || this.ended) return;
    const ex = this.exchange;
    if (ex?.timedOut()) return;
    this.resetMidResponse();
  }

  /**
   * The exchange is over for the codec (response sent, request read or given up on): the
   * upstream connection goes back to its pool if its framing allows, and the chain ends.
   */
  complete(): void {
    if (this.ended) return;
    this.ended = true;
    this.logged(this.status);
    this.deadline = Infinity;
    const ex = this.exchange;
    if (ex !== null) {
      if (ex.res === Res.Done || ex.res === Res.None) ex.finish(this.host.clock.now);
      else ex.abandon();
    }
    this.chain.destroy();
  }

  /** The client went away or the connection is closing: abandon everything. */
  destroy(): void {
    if (this.ended) return;
    this.ended = true;
    this.info.addFlag('DC');
    this.logged(0);
    this.exchange?.abandon();
    this.chain.destroy();
  }

  // ---- ChainTerminal: the request after the last filter -------------------------------------

  decodeHeaders(headers: RequestHeaders, endStream: boolean): void {
    this.isHead = headers.method === 'HEAD';
    if (this.rec?.wantsRequest === true) this.rec.request = headers;
    const table = this.host.routeTable;
    const raw = headers.path;
    const n = raw.charCodeAt(0) !== 47 ? PATH_INVALID : normalizeTargetString(raw, table.escapedSlashes, table.normalizePath);
    if (n === PATH_INVALID || n === PATH_ESCAPED_SLASH) {
      this.chain.sendLocalReply(400, '400\n');
      return;
    }
    const view = new HeaderMapRouteRequest(headers, n === PATH_UNCHANGED ? raw : n, this.host.scheme);
    const d = selectRoute(table, view);
    if (d.kind === 'reject') {
      this.chain.sendLocalReply(d.status, `${d.status}\n`, undefined, d.status === 404 ? 'NR' : undefined);
      return;
    }
    this.info.routeName = d.route.name;
    if (d.kind === 'direct') {
      this.replyWith(d.response);
      return;
    }
    if (d.kind === 'redirect') {
      const r = new ResponseHeaderMap(d.status);
      r.set('location', d.location);
      r.set('content-length', '0');
      this.chain.encodeHeaders(r, true);
      return;
    }
    this.info.clusterName = d.clusterName;
    const route = d.route;
    const path = route.rewrites ? rewritePath(route, view.path) : view.path;
    const authority = route.hostRewrite !== null ? rewriteAuthority(route, view.authority) : view.authority;
    if (!headers.has('x-request-id')) headers.set('x-request-id', this.info.requestId); // as the upstream and the log see it
    let head = `${headers.method} ${path} HTTP/1.1\r\nhost: ${authority}\r\n`;
    // Announced trailers need the chunked coding, whatever the length (see http2/headers.ts).
    const trailers = !endStream && headers.has('trailer');
    headers.forEach((name, value) => {
      if (!NOT_FORWARDED.has(name) && !(trailers && name === 'content-length')) head += `${name}: ${value}\r\n`;
    });
    this.chunked = !endStream && (trailers || !headers.has('content-length'));
    if (this.chunked) head += 'transfer-encoding: chunked\r\n';
    head += forwardedLines(headers.getAll('x-forwarded-for').join(', '), this.host.clientIp, this.host.scheme, null);
    const ex = new UpstreamExchange(this);
    this.exchange = ex;
    if (!ex.start(d.cluster, Buffer.from(`${head}\r\n`, 'latin1'), !endStream, policyOf(d.route))) this.host.pauseRequest();
  }

  decodeData(data: Buffer, endStream: boolean): void {
    const ex = this.exchange;
    if (ex === null) return;
    let room = true;
    if (data.length > 0) {
      if (this.chunked) {
        ex.writeBody(Buffer.from(`${data.length.toString(16)}\r\n`, 'latin1'));
        ex.writeBody(data);
        room = ex.writeBody(CRLF);
      } else room = ex.writeBody(data);
    }
    if (endStream && this.chunked) room = ex.writeBody(LAST_CHUNK);
    if (!room) this.host.pauseRequest();
  }

  decodeTrailers(trailers: HeaderMap): void {
    const ex = this.exchange;
    if (ex === null || !this.chunked) {
      this.decodeData(EMPTY, true); // no chunked coding to carry them: dropped, the body still ends
      return;
    }
    const flat: string[] = [];
    trailers.forEach((name, value) => {
      flat.push(name, value);
    });
    if (!ex.writeBody(lastChunkWithTrailers(flat))) this.host.pauseRequest();
  }

  abort(): void {
    this.exchange?.abandon();
  }

  // ---- ExchangeOwner: the upstream response into the chain ----------------------------------

  clientIp(): string {
    return this.host.clientIp;
  }

  waitUpstream(): void {
    this.deadline = this.host.clock.now + this.host.upstreamResponseMs;
  }

  sendInterim(buf: Buffer, start: number, end: number): void {
    if (!this.ended) this.host.sendInterim(buf, start, end);
  }

  sendHead(buf: Buffer, h: MessageHead, bodyEnd: number, mode: BodyMode): boolean {
    const all = headerFields(buf, h);
    const flat: string[] = [];
    for (let i = 0; i < all.length; i += 2) if (!NOT_RELAYED.has(all[i] as string)) flat.push(all[i] as string, all[i + 1] as string);
    const end = mode === BodyMode.None;
    this.chain.encodeHeaders(ResponseHeaderMap.fromFlat(flat, h.status), end);
    if (!end && bodyEnd > h.headEnd) this.chain.encodeData(buf.subarray(h.headEnd, bodyEnd), false);
    return true;
  }

  sendBody(buf: Buffer, start: number, end: number): boolean {
    this.chain.encodeData(start === 0 && end === buf.length ? buf : buf.subarray(start, end), false);
    return true;
  }

  responseDone(): void {
    this.deadline = Infinity;
    if (!this.chain.destroyed) this.chain.encodeData(EMPTY, true);
  }

  localReply(reply: DirectResponseSnapshot): void {
    const flag = reply.status === 504 ? 'UT' : reply.status === 503 ? 'UF' : undefined;
    this.chain.sendLocalReply(reply.status, `${reply.status}\n`, undefined, flag);
  }

  resetMidResponse(): void {
    this.destroy();
    this.host.exchangeBroken();
  }

  upstreamDrained(): void {
    this.host.resumeRequest();
  }

  // ---- endings --------------------------------------------------------------------------------

  private replyWith(d: DirectResponseSnapshot): void {
    const body = d.keepAlive.subarray(d.headBytes.keepAlive);
    const r = new ResponseHeaderMap(d.status);
    r.set('content-type', 'text/plain');
    r.set('content-length', String(body.length));
    this.chain.encodeHeaders(r, body.length === 0);
    if (body.length > 0) this.chain.encodeData(body, true);
  }
}

/** The router's view of a filtered request (its header map, with the normalized path). */
class HeaderMapRouteRequest implements RouteRequest {
  constructor(
    private readonly headers: RequestHeaders,
    readonly path: string,
    readonly scheme: 'http' | 'https',
  ) {}

  get method(): string {
    return this.headers.method;
  }

  get authority(): string {
    return this.headers.authority;
  }

  header(name: string): string | undefined {
    return this.headers.get(name);
  }

  query(name: string): string | undefined {
    return queryParam(this.path, name);
  }
}
