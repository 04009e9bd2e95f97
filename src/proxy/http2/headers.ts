/**
 * Header translation between an HTTP/2 downstream and an HTTP/1.1 upstream hop.
 *
 * Request: `:method :path` become the request line and `:authority` the `Host` field; the
 * connection-specific fields HTTP/2 forbids are dropped (nghttp2 already refuses a stream that
 * carries them, RFC 9113 8.2.2); `cookie` fields, which HTTP/2 may split, are one field again
 * (RFC 9113 8.2.3; node:http2 joins them with "; "). A body of unknown length is sent chunked,
 * and so is one whose request announces trailers (`trailer`), since only the chunked coding
 * can carry them on HTTP/1.1 (RFC 9112 7.1.2); their `content-length` is dropped then.
 *
 * Response: the head's fields, minus the hop-by-hop ones the parser marked, `transfer-encoding`
 * (the HTTP/2 framing carries the body) and the other connection-specific ones node:http2
 * refuses to send (`te`, `http2-settings`), with lower-case names. Interim
 * (1xx) heads, such as `100 Continue` for a request with `expect`, become informational HEADERS.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http2';
import { NOT_FORWARDED, NOT_RELAYED } from '../http/forwarded.js';
import type { MessageHead } from '../http/head.js';
import { fieldValue } from '../http/message-head.js';
import { queryParam } from '../router/matchers.js';
import type { RouteRequest } from '../router/types.js';

const CRLF = Buffer.from('\r\n', 'latin1');

/**
 * Response fields never sent on as HTTP/2: the HTTP/1 hop's own, and the other fields node:http2
 * calls connection-specific (RFC 9113 8.2.2), which it refuses by throwing from respond() and
 * additionalHeaders(): `http2-settings` and `te` (a request field, whatever an upstream says).
 * The fuzzer (test/fuzz/targets/h2-headers.ts) found both reaching it from upstream heads.
 */
export const NOT_IN_H2_RESPONSE: ReadonlySet<string> = new Set([...NOT_RELAYED, 'te', 'http2-settings']);

export interface UpstreamRequest {
  /** The request line and fields, through the blank line. */
  readonly head: Buffer;
  /** The body goes chunked (no content-length or trailers announced, and more than the head arrives). */
  readonly chunked: boolean;
}

/**
 * Builds the HTTP/1.1 request head for a stream's headers; `endStream` means no body follows.
 * `extra` (CRLF-terminated lines) is added; `x-forwarded-for`/`-proto` are left to it.
 */
export function upstreamRequestHead(headers: IncomingHttpHeaders, method: string, path: string, authority: string, endStream: boolean, extra: string): UpstreamRequest {
  let out = `${method} ${path} HTTP/1.1\r\nhost: ${authority}\r\n`;
  const trailers = !endStream && headers.trailer !== undefined;
  let hasLength = false;
  for (const name in headers) {
    if (name.charCodeAt(0) === 58 || NOT_FORWARDED.has(name)) continue; // ':' starts a pseudo-header
    const v = headers[name];
    if (v === undefined) continue;
    if (name === 'content-length') {
      if (trailers) continue;
      hasLength = true;
    }
    if (Array.isArray(v)) for (const one of v) out += `${name}: ${one}\r\n`;
    else out += `${name}: ${v}\r\n`;
  }
  const chunked = !endStream && !hasLength;
  if (chunked) out += 'transfer-encoding: chunked\r\n';
  out += extra;
  out += '\r\n';
  return { head: Buffer.from(out, 'latin1'), chunked };
}

/** The router's view of a stream's request (router/types.ts), with the normalized path. */
export class H2RouteRequest implements RouteRequest {
  readonly method: string;
  readonly authority: string;

  constructor(
    private readonly headers: IncomingHttpHeaders,
    readonly path: string,
    readonly scheme: 'http' | 'https',
  ) {
    this.method = headers[':method'] ?? 'GET';
    this.authority = headers[':authority'] ?? headers.host ?? '';
  }

  header(name: string): string | undefined {
    const v = this.headers[name];
    return Array.isArray(v) ? v.join(', ') : v;
  }

  query(name: string): string | undefined {
    return queryParam(this.path, name);
  }
}

/**
 * A header object keyed by names an upstream chose: without a prototype, so `constructor` or
 * `__proto__` is a field like any other (on `{}` the first was joined onto Object's source text
 * and the second vanished; the h2-headers fuzz target found both).
 */
export function headerObject(status: number): OutgoingHttpHeaders {
  const out = Object.create(null) as OutgoingHttpHeaders;
  out[':status'] = status;
  return out;
}

/** The response head's fields as node:http2 wants them, with `:status`. */
export function downstreamResponseHeaders(buf: Buffer, h: MessageHead): OutgoingHttpHeaders {
  const out = headerObject(h.status);
  for (let i = 0; i < h.count; i++) {
    if (h.drop[i] === 1) continue;
    const ls = h.lineStart[i] as number;
    const le = (h.lineEnd[i] as number) - 2; // without CRLF
    const colon = buf.indexOf(58, ls);
    if (colon < 0 || colon >= le) continue;
    const name = buf.toString('latin1', ls, colon).toLowerCase();
    if (NOT_IN_H2_RESPONSE.has(name)) continue;
    const value = fieldValue(buf, colon + 1, le);
    const prev = out[name];
    if (prev === undefined) out[name] = name === 'set-cookie' ? [value] : value;
    else if (Array.isArray(prev)) prev.push(value);
    else out[name] = `${String(prev)}, ${value}`;
  }
  return out;
}

/**
 * An interim response head, buf[start, end) (`HTTP/1.1 1xx ...` through its blank line, already
 * parsed), as informational HEADERS: `:status` and its fields.
 */
export function interimResponseHeaders(buf: Buffer, start: number, end: number): OutgoingHttpHeaders {
  const out = headerObject(Number(buf.toString('latin1', start + 9, start + 12)));
  let ls = buf.indexOf(CRLF, start) + 2;
  const last = end - 2; // the blank line
  while (ls < last) {
    const le = buf.indexOf(CRLF, ls);
    const colon = buf.indexOf(58, ls);
    if (colon > ls && colon < le) {
      const name = buf.toString('latin1', ls, colon).toLowerCase();
      const value = fieldValue(buf, colon + 1, le);
      const prev = out[name];
      if (!NOT_IN_H2_RESPONSE.has(name)) out[name] = prev === undefined ? value : `${String(prev)}, ${value}`;
    }
    ls = le + 2;
  }
  return out;
}
