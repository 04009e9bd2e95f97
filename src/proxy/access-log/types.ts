/**
 * Access logs: one line per finished exchange (HTTP request, TCP connection), formatted on the
 * request path and written off it.
 *
 * A listener with `accessLog` in its config gets an `AccessLog` in its snapshot; one without
 * gets `null`, so a caller pays one null check and nothing else: test `accessLog !== null`
 * before building an entry. `log` formats the line (the format was compiled once per
 * snapshot) and appends it to an in-memory buffer; the buffer is written asynchronously, in
 * batches of whole lines, on an O_APPEND fd (writer.ts). It never blocks and never throws:
 * past the buffer's limit the line is dropped and counted in `access_log.<listener>.dropped`.
 */
import type { RequestHeaders, ResponseHeaders, StreamInfo } from '../http/filter.js';

/** What one log line can draw on. The caller may reuse one object per connection. */
export interface AccessLogEntry {
  readonly streamInfo: StreamInfo;
  /** The request as forwarded, or null (TCP; or the head never parsed). */
  readonly request: RequestHeaders | null;
  /** The response as sent downstream, or null (TCP; or none was sent). */
  readonly response: ResponseHeaders | null;
  /** The status sent downstream; 0 when there is none (TCP, or reset before a response). */
  readonly status: number;
  /** Bytes read from the downstream (request body or TCP payload; the HTTP manager decides whether heads count and says so). */
  readonly bytesReceived: number;
  /** Bytes written to the downstream. */
  readonly bytesSent: number;
  /** From `streamInfo.startMonotonic` to the end of the exchange, in ms (fractions allowed; logged truncated). */
  readonly durationMs: number;
  /** `nextConnectionId()` taken when the connection was accepted; 0 when unknown. */
  readonly connectionId: number;
}

/** A listener's access logs (one or more files, each with its format). */
export interface AccessLog {
  /** Formats and buffers one line per configured log. Never throws, never blocks. */
  log(entry: AccessLogEntry): void;
  /**
   * Whether some format reads request (`%REQ%`) or response (`%RESP%`) headers. When false,
   * the caller may pass `null` instead of building a header map it would not otherwise build
   * (the codec's fast path).
   */
  readonly readsRequestHeaders: boolean;
  readonly readsResponseHeaders: boolean;
}

/** A compiled format: entry in, one line (with its "\n") out. */
export type LineFormatter = (entry: AccessLogEntry) => string;

/** Knobs of one log file's writer. Defaults in writer.ts. */
export interface WriterOptions {
  /** Longest time a line waits in memory before a write starts. Default 100 ms. */
  readonly flushIntervalMs?: number;
  /** A write starts as soon as this many bytes wait. Default 64 KiB. */
  readonly flushBytes?: number;
  /** Lines waiting plus the write in flight; past it lines are dropped (counted). Default 4 MiB. */
  readonly maxBufferBytes?: number;
}
