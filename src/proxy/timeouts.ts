/**
 * The timeouts a downstream connection runs with, and their defaults. A listener's `timeouts:`
 * (config) sets some of them; the rest come from the plane (`DataPlaneOptions.timeouts`, else
 * the defaults here). A leaf module: the config schema documents these defaults from it.
 *
 * Defaults, and why (the nginx, HAProxy and Envoy defaults they were weighed against):
 * - requestHeaders 10 s: nginx's client_header_timeout is 60 s and Envoy has none, but 60 s
 *   lets a slowloris client hold a connection a minute per head; HAProxy's docs recommend
 *   `timeout http-request 10s`, long enough for any real client on a slow link.
 * - idle 60 s: nginx keepalive_timeout is 75 s, Envoy's idle_timeout 1 h; a minute keeps
 *   browsers' connections alive between page loads without hoarding sockets.
 * - requestBody 60 s and send 60 s: nginx's client_body_timeout and send_timeout. Both are
 *   gaps between two reads (two writes that made progress), not the whole transfer.
 * - tcpIdle 1 h: Envoy tcp_proxy's idle_timeout. TCP sessions (databases, SSH) are idle for
 *   minutes legitimately; an hour still reclaims connections whose peer vanished.
 * The plane's tick (250 ms) is the granularity of all of them.
 */

export interface HttpTimeouts {
  /** From the first byte of a request head to its last. Answered 408 and closed on expiry. */
  readonly headerReadMs: number;
  /** A keep-alive connection with no request (an HTTP/2 session with no stream); ended on expiry. */
  readonly idleMs: number;
  /** The longest gap between two reads of a request body. 408 before a response started, else closed. */
  readonly requestBodyMs: number;
  /** A response write that has made no progress because the client does not read; the connection is closed. */
  readonly sendMs: number;
  /** A tcp_proxy connection with no byte either way; both sides are closed. */
  readonly tcpIdleMs: number;
  /** From sending a request upstream to the response head, and between response body reads. Default 15 s; 504 before the head. */
  readonly upstreamResponseMs: number;
  /** An idle pooled upstream connection. Default 60 s. */
  readonly upstreamIdleMs: number;
}

/** What a listener's config may set: the downstream timeouts. */
export type ListenerTimeouts = Partial<Pick<HttpTimeouts, 'headerReadMs' | 'idleMs' | 'requestBodyMs' | 'sendMs' | 'tcpIdleMs'>>;

/**
 * Each timeout a listener may set under its three names: its key in the file, in the normalized
 * config (ms), and here. The config and the snapshot both rename through this table, in this
 * order, so a normalized config keeps its key order (and hash).
 */
export const LISTENER_TIMEOUT_NAMES = [
  { file: 'requestHeaders', config: 'requestHeadersMs', plane: 'headerReadMs' },
  { file: 'idle', config: 'idleMs', plane: 'idleMs' },
  { file: 'requestBody', config: 'requestBodyMs', plane: 'requestBodyMs' },
  { file: 'send', config: 'sendMs', plane: 'sendMs' },
  { file: 'tcpIdle', config: 'tcpIdleMs', plane: 'tcpIdleMs' },
] as const;

export const DEFAULT_TIMEOUTS: HttpTimeouts = Object.freeze({
  headerReadMs: 10_000,
  idleMs: 60_000,
  requestBodyMs: 60_000,
  sendMs: 60_000,
  tcpIdleMs: 3_600_000,
  upstreamResponseMs: 15_000,
  upstreamIdleMs: 60_000,
});

/** The plane's timeouts with the listener's own on top; built once per bind, not per connection. */
export function resolveTimeouts(plane: HttpTimeouts, own: ListenerTimeouts): HttpTimeouts {
  return Object.keys(own).length === 0 ? plane : Object.freeze({ ...plane, ...own });
}
