/**
 * The data plane's contracts: what one worker thread runs, what it is configured with, and the
 * seams (network filters, route actions, load-balancing policies) that new features plug into.
 *
 * Ownership: one `DataPlane` per worker thread. It owns every connection it accepts from
 * accept to close, its upstream pools, and nothing shared with other threads except the stats
 * region (through `StatsStore`).
 */
import type { Server, Socket } from 'node:net';
import type { Counter, Gauge, Histogram } from '../shm/handles.js';
import type { StatsStore } from '../shm/types.js';
import type { DrainStrategy, ListenerProtocol } from '../config/types.js';
import type { ClusterRuntime } from './upstream/cluster.js';
import type { ListenerTlsSnapshot, UpstreamTlsSnapshot } from './tls/types.js';

export type * from './tls/types.js';

/** Where the data plane writes what it wants a person to read. Everything is optional. */
export interface ProxyLogger {
  info?(msg: string, fields?: Record<string, unknown>): void;
  warn?(msg: string, fields?: Record<string, unknown>): void;
}

/** Timeouts of the HTTP/1 codec, in milliseconds. Granularity is the plane's tick (250 ms). */
export interface HttpTimeouts {
  /** From the first byte of a request head to its last. Default 60 s; on expiry the connection is closed. */
  readonly headerReadMs: number;
  /** A keep-alive connection with no request in flight. Default 60 s; on expiry it is ended. */
  readonly idleMs: number;
  /** From sending a request upstream to the response head, and between response body reads. Default 15 s; 504 before the head. */
  readonly upstreamResponseMs: number;
  /** An idle pooled upstream connection. Default 60 s. */
  readonly upstreamIdleMs: number;
}

export interface DataPlaneOptions {
  /** Where counters, gauges and histograms live (the shared region in production). */
  readonly stats: StatsStore;
  readonly log?: ProxyLogger;
  readonly timeouts?: Partial<HttpTimeouts>;
  /** Idle keep-alive connections kept per upstream endpoint. Default 64. */
  readonly maxIdlePerEndpoint?: number;
}

/** What `startDrain` needs; the drain manager computes it from `DrainConfig`. */
export interface DrainRequest {
  readonly strategy: DrainStrategy;
  /** `gradual` spreads each HTTP connection's moment to start closing over [now, now + drainTimeMs]. */
  readonly drainTimeMs: number;
  /** Wall-clock ms (`Date.now()` scale). Idle keep-alive connections are closed at this moment, not before. */
  readonly deadlineAt: number;
  /**
   * At `deadlineAt`, also destroy the connections that cannot be asked to close in-band (TCP;
   * see `DownstreamConnection.forcedAtDrainDeadline`), counted as forced. The epoch sets it;
   * without it they stay until the caller's `closeAll`.
   */
  readonly forceAtDeadline?: boolean;
}

/** Stats of one listener, resolved once when the snapshot is built. */
export interface ListenerStats {
  readonly cxTotal: Counter;
  readonly cxActive: Gauge;
  /** Closed after a response that carried `Connection: close` because of the drain. */
  readonly cxDrainClose: Counter;
  /** Idle keep-alive connections closed at the drain deadline (or at once by `hurry`). */
  readonly cxDrainIdleClose: Counter;
  /** Destroyed by `closeAll` (in-flight HTTP, any TCP), or TCP at the drain deadline. */
  readonly cxDrainForced: Counter;
}

/** Stats of one HTTP listener (`http.<listener>.*`). `rq_total` counts completed responses. */
export interface HttpStats {
  readonly rqTotal: Counter;
  /** Indexed by status class: [unused, 1xx, 2xx, 3xx, 4xx, 5xx]. */
  readonly rqByClass: readonly Counter[];
  readonly rqTime: Histogram;
  /** Requests refused by the codec (400/431). */
  readonly rqProtocolError: Counter;
  /** Responses cut short because the upstream broke mid-body. */
  readonly rqResponseReset: Counter;
}

/** Stats of one cluster (`cluster.<name>.*`). */
export interface ClusterStats {
  readonly rqTotal: Counter;
  readonly cxTotal: Counter;
  readonly cxActive: Gauge;
  readonly cxConnectFail: Counter;
  /** Answered 503 because the upstream could not be reached or reset before the response. */
  readonly rq503: Counter;
  /** Answered 504: no response head within the upstream response timeout. */
  readonly rq504: Counter;
  /** The upstream broke the framing (answered 502 before the head, or cut after). */
  readonly rqProtocolError: Counter;
}

export interface EndpointSnapshot {
  readonly host: string;
  readonly port: number;
  /** `host:port` (IPv6 in brackets), plus the TLS settings' id with TLS; the key pools are kept under across snapshots. */
  readonly key: string;
  /** The cluster's TLS settings, or null (plain TCP). */
  readonly tls: UpstreamTlsSnapshot | null;
}

export interface ClusterSnapshot {
  readonly name: string;
  readonly endpoints: readonly EndpointSnapshot[];
  readonly stats: ClusterStats;
}

/** A pre-built direct response: three full wire images; a HEAD answer is a prefix of one. */
export interface DirectResponseSnapshot {
  readonly status: number;
  readonly keepAlive: Buffer;
  readonly close: Buffer;
  /** For HTTP/1.0 clients that asked for keep-alive. */
  readonly keepAlive10: Buffer;
  /** Bytes of the head (status line through the blank line) in each image; the body follows. */
  readonly headBytes: { readonly keepAlive: number; readonly close: number; readonly keepAlive10: number };
}

export interface RouteSnapshot {
  /** Path prefix as bytes, compared against the request target without making a string. */
  readonly prefix: Buffer;
  /** Exactly one of `cluster` and `direct` is set. */
  readonly cluster: ClusterSnapshot | null;
  readonly direct: DirectResponseSnapshot | null;
}

export interface HttpListenerSnapshot {
  readonly protocol: 'http';
  readonly name: string;
  readonly stats: ListenerStats;
  readonly http: HttpStats;
  readonly routes: readonly RouteSnapshot[];
  /** TLS termination (ALPN list included), or null: the socket goes to the filter as accepted. */
  readonly tls: ListenerTlsSnapshot | null;
}

export interface TcpListenerSnapshot {
  readonly protocol: 'tcp';
  readonly name: string;
  readonly stats: ListenerStats;
  readonly cluster: ClusterSnapshot;
  readonly tls: ListenerTlsSnapshot | null;
}

export type ListenerSnapshot = HttpListenerSnapshot | TcpListenerSnapshot;

/**
 * Immutable, fully resolved config for one worker: routes with their direct-response bytes
 * and stat handles. Build it in the thread that uses it (handles are views on that thread's
 * mapping of the stats region); `buildSnapshot(config, stats)` does exactly that.
 */
export interface ConfigSnapshot {
  /** Increases with each snapshot a plane applies; for logs. */
  readonly version: number;
  readonly listeners: ReadonlyMap<string, ListenerSnapshot>;
  readonly clusters: ReadonlyMap<string, ClusterSnapshot>;
}

/** A load-balancing policy: chooses among endpoints; knows nothing about connections. */
export interface LoadBalancer {
  /** Index into the cluster's endpoint list, 0..count-1. */
  pick(): number;
}

export interface LoadBalancerFactory {
  readonly name: string;
  create(endpointCount: number): LoadBalancer;
}

/**
 * One accepted downstream connection, whatever its protocol. The listener keeps a set of these
 * and the plane drives drain and shutdown through this interface only.
 */
export interface DownstreamConnection {
  readonly socket: Socket;
  /** Called on every plane tick (coarse clock, ms) so the connection can apply its timeouts. */
  onTick(now: number): void;
  /** The drain started: `at` is when this connection should start closing (wall-clock ms). */
  drain(at: number): void;
  /** The drain deadline passed: close if nothing is in flight. Returns true if it started closing. */
  closeIfIdle(): boolean;
  /**
   * True for protocols with no in-band way to end a connection (TCP): at the drain deadline of a
   * `forceAtDeadline` drain the plane destroys them and counts each as
   * `downstream_cx_drain_forced`. Absent (HTTP): a connection with an exchange in flight
   * finishes it, up to the caller's `closeAll`.
   */
  readonly forcedAtDrainDeadline?: boolean;
  /** Destroys the socket at once (and any upstream it holds). */
  destroy(): void;
}

/** A route as the worker runs it: the snapshot's route bound to this worker's cluster runtime. */
export interface RouteEntry {
  readonly prefix: Buffer;
  /** Exactly one of `direct` and `cluster` is set. */
  readonly direct: DirectResponseSnapshot | null;
  readonly cluster: ClusterRuntime | null;
}

/**
 * What a connection reads its config from: its listener. The listener's fields are swapped as
 * a whole when a snapshot is applied (RCU); HTTP connections read `routes` once per request,
 * so a new snapshot applies from the next request on, and an exchange in flight finishes on
 * the routes it started with.
 */
export interface ConnectionContext {
  readonly listener: ListenerSnapshot;
  /** HTTP listeners: the routes, in order. Empty for TCP. */
  readonly routes: readonly RouteEntry[];
  /** TCP listeners: the cluster. Null for HTTP. */
  readonly tcpCluster: ClusterRuntime | null;
  readonly timeouts: HttpTimeouts;
  /** Coarse clock (ms, `Date.now()` scale), refreshed each plane tick. */
  readonly clock: { readonly now: number };
  /** When a connection accepted now should start closing: Infinity unless draining. */
  drainAtForNew(): number;
  /** Wall-clock ms of the drain deadline: Infinity unless draining. Past it, idle connections close. */
  drainDeadline(): number;
  /** Called once when the connection's socket has closed. */
  onClosed(conn: DownstreamConnection): void;
}

/** A network filter: turns an accepted socket into a connection. One file per filter. */
export interface NetworkFilterFactory {
  readonly name: string;
  readonly protocol: ListenerProtocol;
  accept(socket: Socket, ctx: ConnectionContext): DownstreamConnection;
}

/** Public surface of the data plane (implemented by `DataPlane`). */
export interface DataPlaneApi {
  applySnapshot(snapshot: ConfigSnapshot): void;
  addListener(name: string, server: Server): void;
  startDrain(req: DrainRequest): void;
  hurry(graceMs: number): void;
  stopAccepting(): void;
  connections(): number;
  closeAll(reason: string): number;
  whenIdle(): Promise<void>;
  shutdown(): Promise<void>;
}
