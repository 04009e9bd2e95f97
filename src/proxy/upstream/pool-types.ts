/**
 * The seam between an upstream exchange (http/exchange.ts) and the pools of one worker: what a
 * pool hands out for one request (`UpstreamConn`: an HTTP/1.1 connection, or one stream of an
 * HTTP/2 session that looks like one), how a request waits when the cluster's limits are
 * reached (`PoolWaiter`), and what the connection reports back (`UpstreamOwner`).
 *
 * Every `UpstreamConn` speaks HTTP/1.1 bytes to its owner: the request head and body go in
 * through `write` as the HTTP/1 hop would send them, and the response comes out through
 * `onUpstreamData` as an HTTP/1.1 response. For an HTTP/2 stream that is a translation
 * (http2/upstream-stream.ts); for an HTTP/1.1 connection it is the socket itself.
 */
import type { ClusterLimits, ClusterStats, EndpointSnapshot } from '../types.js';

/** What a downstream exchange must handle for the upstream connection it holds. */
export interface UpstreamOwner {
  /** Response bytes, HTTP/1.1 framed. */
  onUpstreamData(chunk: Buffer): void;
  /** The upstream's write buffer drained (request-body backpressure). */
  onUpstreamDrain(): void;
  /** The connection (or stream) closed; after a complete response this changes nothing. */
  onUpstreamClose(up: UpstreamConn): void;
}

/** One request's way to an endpoint. */
export interface UpstreamConn {
  owner: UpstreamOwner | null;
  readonly pool: UpstreamPool;
  /** The transport connected (a close before that is a connect failure, flag `UF`). */
  readonly wasConnected: boolean;
  /** The connect failed in this process (out of fds): the host is not to blame, outlier detection skips it. */
  readonly failedLocally: boolean;
  /**
   * The upstream cannot have acted on the request: a keep-alive connection reused after the
   * upstream had closed it, or an HTTP/2 stream refused (REFUSED_STREAM, or above a GOAWAY's
   * last stream id). A bodiless request is then resent once, not counted as a retry.
   */
  readonly unprocessed: boolean;
  /** Request bytes (head first, in one write; then body as framed for HTTP/1.1). False: wait for drain. */
  write(chunk: Buffer): boolean;
  /** The client half-closed a tunnel. */
  end(): void;
  /** Response backpressure. */
  pause(): void;
  resume(): void;
  /** Never reused: an HTTP/1.1 socket is destroyed, an HTTP/2 stream is reset. */
  close(): void;
}

/** A request waiting for `take` to succeed. */
export interface PoolWaiter {
  /** `up` is this waiter's now (its `owner` is not set yet). */
  upstreamReady(up: UpstreamConn): void;
}

/**
 * The pool of one endpoint of one cluster in one worker (HTTP/1.1: pool.ts, HTTP/2: h2-pool.ts).
 * It also carries what the load balancer needs of its host, refreshed by each membership.
 */
export interface UpstreamPool extends HostFacts {
  readonly endpoint: EndpointSnapshot;
  readonly stats: ClusterStats;
  /** A connection or stream for one request, or null when the cluster's connection limit is reached. */
  take(): UpstreamConn | null;
  /** After `take` gave null: wait in line. False when the pending queue is full (answer 503 `UO`). */
  enqueue(w: PoolWaiter): boolean;
  /** `w` gave up waiting (a timeout, or the client left). */
  dequeue(w: PoolWaiter): void;
  /** The exchange on `c` is over and its framing is sound: keep `c` for the next request, or close it. */
  release(c: UpstreamConn, now: number): void;
  /** Closes what has been idle since before `now - idleMs`. */
  sweep(now: number, idleMs: number): void;
  /** The endpoint left the config: idle connections close now, busy ones when released. */
  close(): void;
}

/** A pool's host, as the latest membership says (clusters/types.ts HostData). */
export interface HostFacts {
  /** `host:port` (IPv6 in brackets), without the TLS part of `endpoint.key`. */
  readonly hostKey: string;
  weight: number;
  /** HostFlag bits. */
  flags: number;
  /** Slow start counts from here (wall-clock ms); 0: not ramping. */
  since: number;
  /** The host's shared counters (HostSlot), the same for as long as it is a member. */
  counters: Int32Array;
}

/**
 * A cluster's circuit-breaker counters (BudgetSlot), shared by every worker of the epoch
 * through a SharedArrayBuffer, and the limits of the latest snapshot.
 */
export interface ClusterBudget {
  readonly counters: Int32Array;
  limits: ClusterLimits;
}
