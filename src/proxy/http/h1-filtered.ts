/**
 * The HTTP/1 connection's side of a request on a listener with HTTP filters: turns the parsed
 * head into a header map, the body into payload (chunk framing removed), and feeds them to a
 * `FilteredExchange`; the response comes back through `H1Sink`. One per connection, reused
 * for each filtered request.
 */
import type { Socket } from 'node:net';
import type { ConnectionContext, WorkerRouteTable } from '../connection-types.js';
import type { HttpListenerSnapshot } from '../types.js';
import { BAD_FRAMING, BodyMode, NEED_MORE, type BodyFramer } from './body.js';
import type { FilterChainFactory } from './filter-chain-types.js';
import { FilteredExchange, type FilteredHost } from './filtered-exchange.js';
import { H1Sink, type H1SinkOwner } from './h1-sink.js';
import { headerFields, type MessageHead } from './head.js';
import { RequestHeaderMap } from './header-map.js';
import { ExchangeInfo } from './stream-info.js';
import type { ResponseHeaders } from './filter.js';
import { nextConnectionId } from '../access-log/index.js';

const EMPTY = Buffer.alloc(0);

/** What this needs from its connection. */
export interface FilteredConnection {
  readonly socket: Socket;
  readonly req: MessageHead;
  readonly isHead: boolean;
  readonly scheme: 'http' | 'https';
  clientIp(): string;
  closeDecision(structural: boolean): boolean;
  /** The response is all written. */
  filteredSent(status: number): void;
  /** The response broke: close the connection. */
  filteredBroken(): void;
  pauseForUpstream(): void;
  resumeForUpstream(): void;
}

export class H1Filtered implements FilteredHost, H1SinkOwner {
  /** The exchange in progress, or null. */
  fx: FilteredExchange | null = null;
  private connectionId = 0;
  private readonly sink = new H1Sink(this);
  private readonly toChain = (buf: Buffer, start: number, end: number): void => {
    this.fx?.chain.decodeData(buf.subarray(start, end), false);
  };

  constructor(
    private readonly conn: FilteredConnection,
    private readonly ctx: ConnectionContext,
    private readonly reqBody: BodyFramer,
  ) {}

  // ---- FilteredHost / H1SinkOwner -------------------------------------------------------------

  get routeTable(): WorkerRouteTable {
    return this.ctx.routeTable as WorkerRouteTable;
  }

  get clock(): { readonly now: number } {
    return this.ctx.clock;
  }

  get upstreamResponseMs(): number {
    return this.ctx.timeouts.upstreamResponseMs;
  }

  get clientIp(): string {
    return this.conn.clientIp();
  }

  get scheme(): 'http' | 'https' {
    return this.conn.scheme;
  }

  get socket(): Socket {
    return this.conn.socket;
  }

  get version(): number {
    return this.conn.req.version;
  }

  get isHead(): boolean {
    return this.conn.isHead;
  }

  pauseRequest(): void {
    this.conn.pauseForUpstream();
  }

  resumeRequest(): void {
    this.conn.resumeForUpstream();
  }

  exchangeBroken(): void {
    this.conn.filteredBroken();
  }

  sendInterim(buf: Buffer, start: number, end: number): void {
    if (this.version === 11) this.conn.socket.write(buf.subarray(start, end)); // HTTP/1.0 knows no 1xx
  }

  closeDecision(structural: boolean): boolean {
    return this.conn.closeDecision(structural);
  }

  sent(status: number): void {
    this.conn.filteredSent(status);
  }

  broken(): void {
    this.conn.filteredBroken();
  }

  noteResponse(headers: ResponseHeaders): void {
    this.fx?.noteResponse(headers);
  }

  noteSent(bytes: number): void {
    this.fx?.noteSent(bytes);
  }

  full(): void {
    this.fx?.upstream?.downstreamFull();
  }

  // ---- driven by the connection -------------------------------------------------------------

  /**
   * Starts the request whose head `h` ends at `end` in `buf` (the body framer is reset for it).
   * Returns where the request ends in buf, NEED_MORE if its body continues, or BAD_FRAMING.
   */
  start(chains: FilterChainFactory, buf: Buffer, end: number): number {
    const h = this.conn.req;
    const flat = headerFields(buf, h);
    const rid = flat.indexOf('x-request-id');
    const requestId = rid >= 0 && rid % 2 === 0 ? flat[rid + 1] : undefined;
    const listener = this.ctx.listener as HttpListenerSnapshot;
    const info = new ExchangeInfo(listener.name, h.version === 10 ? 'HTTP/1.0' : 'HTTP/1.1', this.conn.socket, requestId);
    const log = listener.accessLog;
    if (log !== null && this.connectionId === 0) this.connectionId = nextConnectionId();
    const fx = new FilteredExchange(this, chains, info, this.sink, log, this.connectionId);
    this.fx = fx;
    const method = buf.toString('latin1', h.methodStart, h.methodEnd);
    const headers = RequestHeaderMap.fromFlat(flat, { method, path: buf.toString('latin1', h.targetStart, h.targetEnd), scheme: this.conn.scheme });
    const none = this.reqBody.mode === BodyMode.None;
    fx.chain.decodeHeaders(headers, none);
    if (none) {
      fx.reqDone = true;
      return end;
    }
    return this.body(buf, end);
  }

  /** Body bytes buf[pos..]: returns where the body ended, NEED_MORE, or BAD_FRAMING. */
  body(buf: Buffer, pos: number): number {
    const fx = this.fx;
    const chunked = this.reqBody.mode === BodyMode.Chunked;
    this.reqBody.sink = chunked ? this.toChain : null;
    const r = this.reqBody.feed(buf, pos, buf.length);
    this.reqBody.sink = null;
    if (r === BAD_FRAMING || fx === null) return r;
    const done = r !== NEED_MORE;
    fx.noteReceived((done ? r : buf.length) - pos); // framing included for chunked bodies
    if (chunked) {
      if (done) fx.chain.decodeData(EMPTY, true);
    } else fx.chain.decodeData(buf.subarray(pos, done ? r : buf.length), done);
    if (done) fx.reqDone = true;
    return r;
  }

  /** The exchange is over for the connection. */
  complete(): void {
    this.fx?.complete();
    this.fx = null;
  }

  destroy(): void {
    this.fx?.destroy();
    this.fx = null;
  }
}
