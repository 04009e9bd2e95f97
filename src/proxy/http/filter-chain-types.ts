/**
 * The seams between the filter chain and the connection manager: what the chain calls after
 * its last decoder (the router and the upstream exchange, `ChainTerminal`) and after its first
 * encoder (the downstream codec, `DownstreamSink`). The connection manager implements both,
 * once for HTTP/1 and once for HTTP/2; the chain knows nothing about either protocol.
 *
 *   codec ──decode*──▶ filter 0 ▶ filter 1 ▶ … ▶ filter n-1 ──▶ ChainTerminal (router, upstream)
 *   codec ◀─────────── filter 0 ◀ filter 1 ◀ … ◀ filter n-1 ◀──encode*── connection manager
 *            DownstreamSink
 */
import type { HeaderMap, RequestHeaders, ResponseHeaders, StreamInfo } from './filter.js';

/**
 * The router and upstream exchange, as the last stop of the request. Each method is called at
 * most in this order: headers once, data any number of times, trailers at most once; the
 * message that carries `endStream` (or the trailers) is the last one.
 */
export interface ChainTerminal {
  decodeHeaders(headers: RequestHeaders, endStream: boolean): void;
  decodeData(data: Buffer, endStream: boolean): void;
  decodeTrailers(trailers: HeaderMap): void;
  /**
   * The exchange no longer wants an upstream response: a filter answered locally after the
   * request had reached the terminal, or the stream was reset. Release the upstream request
   * (reset it, or let it finish and discard it) and call nothing on the chain for it again.
   * Called at most once, and only after `decodeHeaders`.
   */
  abort(): void;
}

/**
 * Where the response goes after the first filter's encoder: the downstream codec. Headers
 * once, then data, then trailers at most once, the last one ending the stream; or `reset`.
 */
export interface DownstreamSink {
  encodeHeaders(headers: ResponseHeaders, endStream: boolean): void;
  encodeData(data: Buffer, endStream: boolean): void;
  encodeTrailers(trailers: HeaderMap): void;
  /**
   * The response cannot be completed (a filter failed after the response head had gone out,
   * or the response buffer overflowed then): end the stream abnormally, an HTTP/2
   * RST_STREAM or an HTTP/1 connection close. Called at most once, and nothing after it.
   */
  reset(): void;
}

/** Counters the chain itself keeps, per listener (`http.<listener>.`). */
export interface ChainStats {
  /** A filter callback threw: answered 500 (or reset if the response had started). */
  readonly filterError: { inc(): void };
  /** A stopped direction buffered more than `bufferLimitBytes` (413 or 500, or reset). */
  readonly bufferOverflow: { inc(): void };
}

/** One listener's filters, prepared for one snapshot in one worker. */
export interface FilterChainFactory {
  /** No filters: the codec keeps its fast path and builds no header map and no chain. */
  readonly isEmpty: boolean;
  /** Filter names in order, for logs (`["headers", "cors"]`). */
  readonly names: readonly string[];
  /** A fresh chain (and a fresh filter per configured entry) for one request. */
  create(streamInfo: StreamInfo, terminal: ChainTerminal, sink: DownstreamSink): FilterChainApi;
}

/** What the connection manager drives for one request (implemented by `FilterChain`). */
export interface FilterChainApi {
  /** From the downstream codec. Ignored once the exchange has ended. */
  decodeHeaders(headers: RequestHeaders, endStream: boolean): void;
  decodeData(data: Buffer, endStream: boolean): void;
  decodeTrailers(trailers: HeaderMap): void;
  /** The upstream response, from the terminal. Ignored after a local reply or the end. */
  encodeHeaders(headers: ResponseHeaders, endStream: boolean): void;
  encodeData(data: Buffer, endStream: boolean): void;
  encodeTrailers(trailers: HeaderMap): void;
  /**
   * A reply the connection manager makes itself (no route 404, upstream failure 503, 504...):
   * it runs through every filter's encoder, like an upstream response, with
   * `content-type: text/plain` and `content-length`; `flag` goes to the response flags.
   */
  sendLocalReply(status: number, body: string, headers?: Readonly<Record<string, string>>, flag?: string): void;
  /**
   * Request bytes held inside the chain because a filter stopped the request: a codec may
   * stop reading from the client while this is above its own high-water mark.
   */
  readonly bufferedDecodeBytes: number;
  /**
   * The stream was reset or the connection closed: every filter's `onDestroy` runs (if it has
   * not already) and the chain ignores everything after. The chain also destroys itself once
   * the response has ended downstream; calling this again is harmless.
   */
  destroy(): void;
  readonly destroyed: boolean;
}
