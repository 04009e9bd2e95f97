/**
 * The contract between an upstream exchange (exchange.ts) and the downstream side that runs it:
 * an HTTP/1 connection (connection.ts) or an HTTP/2 stream (http2/stream.ts). The exchange
 * parses and frames; the owner decides how bytes go out, keep-alive and close.
 */
import type { DirectResponseSnapshot } from '../types.js';
import type { BodyMode } from './body.js';
import type { MessageHead } from './head.js';

/** Where the exchange is on the response side. */
export const enum Res {
  None,
  WaitHead,
  Body,
  Done,
  /** After a 101 (or a 2xx to CONNECT): bytes pass through both ways until either side closes. */
  Tunnel,
}

/** What the exchange needs from the downstream connection that runs it. */
export interface ExchangeOwner {
  /** A HEAD request: the response has no body whatever its head says. */
  readonly isHead: boolean;
  /** The request message has been read to its end. */
  readonly reqDone: boolean;
  /** Chunked response bodies arrive as payload only (`sendBody` gets no chunk framing). */
  readonly dechunk: boolean;
  /** Restarts the owner's timer at `upstreamResponseMs` from now (called at each try and each response read). */
  waitUpstream(): void;
  /** An interim (1xx) response head, buf[start, end). */
  sendInterim(buf: Buffer, start: number, end: number): void;
  /**
   * The final response head `h` (parsed from buf), followed in buf[h.headEnd, bodyEnd) by body
   * bytes of the same read, framed as `mode` says (unless dechunked: then bodyEnd = headEnd).
   * Parse state in `h` is valid only during the call. Returns false when the downstream is full.
   */
  sendHead(buf: Buffer, h: MessageHead, bodyEnd: number, mode: BodyMode): boolean;
  /** More response body, buf[start, end). Returns false when the downstream is full. */
  sendBody(buf: Buffer, start: number, end: number): boolean;
  /** The whole response is written to the downstream socket. */
  responseDone(status: number): void;
  /** No usable response: answer the client locally (nothing of the response was sent). */
  localReply(reply: DirectResponseSnapshot): void;
  /** The response broke after its head went out: the client must see a broken message. */
  resetMidResponse(): void;
  /** The upstream socket drained: request-body reads may resume. */
  upstreamDrained(): void;
  /** The request asked to upgrade, or is a CONNECT, and was forwarded so: a 101 (a 2xx to CONNECT) opens a tunnel (`TunnelOwner`). */
  readonly upgrading: boolean;
  /** The client's address (after the PROXY protocol): what `hashOn: { sourceIp: true }` hashes. */
  clientIp(): string;
}

/** An owner that can take an upgrade or a CONNECT (HTTP/1 downstream; HTTP/2 CONNECT streams). */
export interface TunnelOwner extends ExchangeOwner {
  /** With `upgrading`: the request is a CONNECT, so a 2xx opens the tunnel and a 101 is an error. */
  readonly connecting: boolean;
  /** The upstream's 101 (2xx) head and whatever followed it, buf[start, end): the tunnel is open. */
  startTunnel(buf: Buffer, start: number, end: number, status: number): void;
  /** Tunnel bytes from the upstream. Returns false when the downstream is full. */
  tunnelData(chunk: Buffer): boolean;
  /** The upstream side of the tunnel ended or closed. */
  tunnelEnded(): void;
}
