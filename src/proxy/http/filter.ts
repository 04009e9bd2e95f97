/**
 * The HTTP filter contract, modelled on Envoy's decoder and encoder filters. A listener runs
 * its filters in the configured order for each request (decode: downstream → upstream) and in
 * reverse order for its response (encode: upstream → downstream). The router is always last
 * and is not a filter object: a request whose chain is empty takes the codec's fast path and
 * never builds a header map.
 *
 * One filter file per kind under src/proxy/http/filters/. A kind is a `HttpFilterFactory`: it
 * validates its own config (a zod schema, so errors carry `file:line:col: path`), builds
 * per-listener state once per snapshot (`prepare`, in the worker thread that uses it), and
 * makes one `HttpFilter` per request (`create`), which must be cheap.
 *
 * A callback returns `Continue` to pass the message to the next filter, or `Stop` to hold it
 * there (the filter resumes the chain later with `continueDecoding` / `continueEncoding`, or
 * ends the exchange with `sendLocalReply`). Header maps are mutable and owned by the exchange:
 * a filter changes them in place.
 */
import type * as z from 'zod';
import type { StatsStore } from '../../shm/types.js';

export const enum FilterStatus {
  Continue = 0,
  Stop = 1,
}

/** Header fields by lower-case name, in arrival order. Pseudo-headers are not in here. */
export interface HeaderMap {
  /** The field's values joined by ", " (`set-cookie` excepted: its first value), or undefined. */
  get(name: string): string | undefined;
  getAll(name: string): readonly string[];
  has(name: string): boolean;
  /** Replaces every value of `name` with `value`. */
  set(name: string, value: string): void;
  /** Appends one more value. */
  add(name: string, value: string): void;
  remove(name: string): void;
  forEach(fn: (name: string, value: string) => void): void;
}

export interface RequestHeaders extends HeaderMap {
  method: string;
  /** Origin-form path with query, as it will be sent upstream (`/a/b?c=d`). */
  path: string;
  /** `:authority` for HTTP/2, `Host` for HTTP/1 (it is one field: setting one sets the other). */
  authority: string;
  readonly scheme: 'http' | 'https';
}

export interface ResponseHeaders extends HeaderMap {
  status: number;
}

/** What is known about one exchange; also what access logs and header variables read. */
export interface StreamInfo {
  readonly listenerName: string;
  /** `HTTP/1.0`, `HTTP/1.1` or `HTTP/2`. */
  readonly protocol: string;
  readonly downstreamRemoteAddress: string;
  readonly downstreamRemotePort: number;
  readonly downstreamLocalAddress: string;
  readonly downstreamLocalPort: number;
  /** SNI the client sent over TLS, or "" (plain text, or no SNI). */
  readonly requestedServerName: string;
  /** Wall clock (ms) and monotonic start (`performance.now()`) of the request. */
  readonly startTime: number;
  readonly startMonotonic: number;
  /** `x-request-id` as forwarded (generated when the client sent none). */
  readonly requestId: string;
  /** Filled in as the exchange goes: the chosen route's name and cluster, the upstream host. */
  routeName: string;
  clusterName: string;
  upstreamHost: string;
  /** Envoy-style response flags for logs (`UF` upstream connect failure, `UT` timeout, `RL` rate limited, `FI` fault injected, ...), comma-separated. */
  responseFlags: string;
}

export interface DecoderCallbacks {
  readonly streamInfo: StreamInfo;
  /** Resumes a chain this filter stopped: the message goes to the next filter. */
  continueDecoding(): void;
  /**
   * Answers the request here: the remaining decoders and the router never see it. The
   * response still runs through the encoders of the filters before this one.
   * `flag` is added to `streamInfo.responseFlags`.
   */
  sendLocalReply(status: number, body: string, headers?: Readonly<Record<string, string>>, flag?: string): void;
}

export interface EncoderCallbacks {
  readonly streamInfo: StreamInfo;
  continueEncoding(): void;
}

/** One filter's work on one request. Every callback is optional: absent means Continue. */
export interface HttpFilter {
  decodeHeaders?(headers: RequestHeaders, endStream: boolean, cb: DecoderCallbacks): FilterStatus;
  decodeData?(data: Buffer, endStream: boolean, cb: DecoderCallbacks): FilterStatus;
  decodeTrailers?(trailers: HeaderMap, cb: DecoderCallbacks): FilterStatus;
  encodeHeaders?(headers: ResponseHeaders, endStream: boolean, cb: EncoderCallbacks): FilterStatus;
  encodeData?(data: Buffer, endStream: boolean, cb: EncoderCallbacks): FilterStatus;
  encodeTrailers?(trailers: HeaderMap, cb: EncoderCallbacks): FilterStatus;
  /** The exchange ended (completed, reset or closed): release timers and the like. */
  onDestroy?(): void;
}

/** What `prepare` gets: the listener it serves and the stats it may register. */
export interface FilterContext {
  readonly listenerName: string;
  /** Prefix for this filter's stats: `http.<listener>.<filter name>.` */
  readonly statPrefix: string;
  readonly stats: StatsStore;
  /** Worker threads of the epoch (a limit meant for the whole process divides by this). */
  readonly workers: number;
}

export interface HttpFilterFactory<Config = unknown, Prepared = unknown> {
  /** The key under `httpFilters[].` in the config file, such as `localRateLimit`. */
  readonly name: string;
  /** Validates the filter's config; the output is what `prepare` gets. */
  readonly configSchema: z.ZodType<Config>;
  /** Once per snapshot per worker: resolve stats, compile templates, make shared buckets. */
  prepare(config: Config, ctx: FilterContext): Prepared;
  /** Once per request. */
  create(prepared: Prepared): HttpFilter;
}
