/**
 * The data plane's contracts: what one worker thread runs, what it is configured with (the
 * snapshot), its stats, and the load-balancing seam. What a connection sees at run time (its
 * context, the network filter seam) is in connection-types.ts, which may depend on the
 * upstream runtime; this file depends on nothing in proxy/ but the leaf lb/types.ts, so everything can import it.
 *
 * Ownership: one `DataPlane` per worker thread. It owns every connection it accepts from
 * accept to close, its upstream pools, and nothing shared with other threads except the stats
 * region (through `StatsStore`).
 */
import type { Server } from 'node:net';
import type { Counter, Gauge, Histogram } from '../shm/handles.js';
import type { StatsStore } from '../shm/types.js';
import type { DrainStrategy, HttpListenerConfig } from '../config/types.js';
import type { AccessLog } from './access-log/types.js';
import type { FilterChainFactory } from './http/filter-chain-types.js';
import type { ListenerTlsSnapshot, UpstreamTlsSnapshot } from './tls/types.js';
import type { ListenerFilter } from './listener-filters/types.js';
import type { ChainSelector } from './filter-chains/types.js';
import type { ListenSource } from './limits/types.js';
import type { HashOnConfig, SlowStartConfig } from '../config/types.js';
import type { ClusterMembership, OutlierKind } from '../clusters/types.js';
import type { LbOptions, LoadBalancerFactory } from './lb/types.js';
import type { HttpTimeouts, ListenerTimeouts } from './timeouts.js';

export type { HttpTimeouts, ListenerTimeouts } from './timeouts.js';

export type * from './tls/types.js';

/** Where the data plane writes what it wants a person to read. Everything is optional. */
export interface ProxyLogger {
  info?(msg: string, fields?: Record<string, unknown>): void;
  warn?(msg: string, fields?: Record<string, unknown>): void;
}

export interface DataPlaneOptions {
  /** Where counters, gauges and histograms live (the shared region in production). */
  readonly stats: StatsStore;
  /** A host's consecutive failures reached the cluster's outlier threshold (the worker posts it to the main thread). */
  readonly onOutlier?: (cluster: string, host: string, kind: OutlierKind) => void;
  readonly log?: ProxyLogger;
  readonly timeouts?: Partial<HttpTimeouts>;
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
  readonly cxHttp1Active: Gauge;
  readonly cxHttp2Active: Gauge;
  /** Connections upgraded (101) to a tunnel, such as WebSocket. */
  readonly cxUpgradesTotal: Counter;
  readonly cxUpgradesActive: Gauge;
  /** HTTP/2 streams the client reset before their response was complete. */
  readonly rxReset: Counter;
  readonly h2Abuse: H2AbuseStats;
  /** Cut at the listener's timeouts (`timeouts:`): a request head, a keep-alive connection, a request body gap, a stalled response write. */
  readonly rqHeaderTimeout: Counter;
  readonly cxIdleTimeout: Counter;
  readonly rqIdleTimeout: Counter;
  readonly rqSendTimeout: Counter;
}

/** HTTP/2 sessions ended for abuse with GOAWAY (`http.<listener>.http2.abuse_*`; http2/abuse.ts). */
export interface H2AbuseStats {
  /** Every kind, those below and the rest nghttp2 ends a session for (invalid frames, ...). */
  readonly goaway: Counter;
  readonly rapidReset: Counter;
  readonly continuationFlood: Counter;
  readonly pingFlood: Counter;
  readonly settingsFlood: Counter;
}

/** Stats of one cluster (`cluster.<name>.*`). */
export interface ClusterStats {
  /** Tries: sent, queued or refused for a full queue (the resend of an unprocessed request is not one). */
  readonly rqTotal: Counter;
  readonly cxTotal: Counter;
  readonly cxActive: Gauge;
  readonly cxConnectFail: Counter;
  /** Connects that failed for want of a file descriptor here (EMFILE, ENFILE); also in cxConnectFail. */
  readonly cxConnectFdExhausted: Counter;
  /** Answered 503 because the upstream could not be reached or reset before the response. */
  readonly rq503: Counter;
  /** Answered 504: no response head within the upstream response timeout. */
  readonly rq504: Counter;
  /** The upstream broke the framing (answered 502 before the head, or cut after). */
  readonly rqProtocolError: Counter;
  /** The route timeout passed: answered 504 before the response head, reset after it. */
  readonly rqTimeout: Counter;
  /** A try got no response head within the route's per-try timeout (its connection is closed). */
  readonly rqPerTryTimeout: Counter;
  /** Retries sent under a route's retry policy (the stale keep-alive resend is not one). */
  readonly rqRetry: Counter;
  /** Retried requests whose response ended with a 2xx..4xx status. */
  readonly rqRetrySuccess: Counter;
  /** From a try's start (queueing for a connection included) to the end of its response, in µs. */
  readonly rqTime: Histogram;
  /** Requests that had to wait for a connection or stream (the connection limit was reached). */
  readonly rqPendingTotal: Counter;
  readonly rqPendingActive: Gauge;
  /** Refused with 503 (flag `UO`): the pending queue was full. */
  readonly rqPendingOverflow: Counter;
  /** A new connection was wanted but `maxConnections` was reached. */
  readonly cxOverflow: Counter;
  /** Connections closed because they reached `maxRequestsPerConnection`. */
  readonly cxMaxRequests: Counter;
  /** HTTP/2 sessions opened (they are counted in `cxTotal` too). */
  readonly cxHttp2Total: Counter;
  /** Answered 503 (flag `UH`): the cluster had no host to send to. */
  readonly cxNoneHealthy: Counter;
  /** Requests load-balanced over every host because too few were healthy. */
  readonly lbHealthyPanic: Counter;
  /** Retries not sent because `maxRetries` retries were already under way (the failure is answered as is). */
  readonly rqRetryOverflow: Counter;
}

/** A cluster's circuit-breaker limits, for the whole epoch (see CircuitBreakersConfig). */
export interface ClusterLimits {
  readonly maxConnections: number;
  readonly maxPendingRequests: number;
  readonly maxRequests: number;
  readonly maxRetries: number;
  /** Infinity when unlimited. */
  readonly maxRequestsPerConnection: number;
}

export interface EndpointSnapshot {
  readonly host: string;
  readonly port: number;
  /** `host:port` (IPv6 in brackets), plus the TLS settings' id with TLS; the key pools are kept under across snapshots. */
  readonly key: string;
  /** The cluster's TLS settings, or null (plain TCP). */
  readonly tls: UpstreamTlsSnapshot | null;
}

/** How a cluster picks a host: the policy, and what the cluster runtime applies around it. */
export interface ClusterBalancing {
  readonly policy: LoadBalancerFactory;
  readonly options: LbOptions;
  /** What ringHash and maglev hash, or null (they then pick at random). */
  readonly hashOn: HashOnConfig | null;
  readonly slowStart: SlowStartConfig | null;
  /** Percent; below it, every host takes traffic (panic). */
  readonly panicThreshold: number;
}

export interface ClusterSnapshot {
  readonly name: string;
  readonly stats: ClusterStats;
  /** What the endpoints are spoken to with (HTTP routes; a tcp listener only pipes bytes). */
  readonly protocol: 'http1' | 'http2';
  readonly limits: ClusterLimits;
  /** The cluster's TLS settings, or null (plain TCP). */
  readonly tls: UpstreamTlsSnapshot | null;
  readonly balancing: ClusterBalancing;
  /** Consecutive-failure thresholds the workers watch (outlier detection), or null (off). */
  readonly outlier: { readonly consecutive5xx: number; readonly consecutiveGatewayFailure: number } | null;
  /** The members the plane starts with: the config's static endpoints, or what the cluster manager published. */
  readonly membership: ClusterMembership;
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

export interface HttpListenerSnapshot {
  readonly protocol: 'http';
  readonly name: string;
  readonly stats: ListenerStats;
  /** The listener's own timeouts (the rest are the plane's); shared by its chains. */
  readonly timeouts: ListenerTimeouts;
  readonly http: HttpStats;
  /** Accept HTTP/2 with prior knowledge (h2c) besides HTTP/1. */
  readonly http2: boolean;
  /** Request head limits: bytes and fields (HTTP/1 head; HTTP/2 header list). */
  readonly headBytes: number;
  readonly headFields: number;
  /** The listener's config: its routes or virtual hosts are compiled at bind (router/table.ts). */
  readonly config: HttpListenerConfig;
  /** Its HTTP filters; `isEmpty` keeps the codecs on their raw fast path. */
  readonly filterChain: FilterChainFactory;
  /** TLS termination (ALPN list included), or null: the socket goes to the filter as accepted. */
  readonly tls: ListenerTlsSnapshot | null;
  /** Where each request is logged, or null (no `accessLog`): nothing is built for logs then. */
  readonly accessLog: AccessLog | null;
  /** Run on each accepted socket before TLS, in order; null when the listener has none. */
  readonly listenerFilters: readonly ListenerFilter[] | null;
  /** Chosen from after the listener filters; null when the listener has none. */
  readonly filterChains: FilterChainsSnapshot | null;
}

export interface TcpListenerSnapshot {
  readonly protocol: 'tcp';
  readonly name: string;
  readonly stats: ListenerStats;
  readonly timeouts: ListenerTimeouts;
  /** `tcp.<listener>.idle_timeout`: closed after `tcpIdle` with no byte either way. */
  readonly idleTimeout: Counter;
  /** Null only on a listener whose filter chains are all it has (no default chain). */
  readonly cluster: ClusterSnapshot | null;
  readonly tls: ListenerTlsSnapshot | null;
  /** One line per connection, or null. */
  readonly accessLog: AccessLog | null;
  readonly listenerFilters: readonly ListenerFilter[] | null;
  readonly filterChains: FilterChainsSnapshot | null;
}

/**
 * A listener's filter chains. The listener's own snapshot is its default chain, and each
 * chain's `settings` is a snapshot of the same shape: what a connection on that chain reads
 * (the listener's name, stats and access log; the chain's TLS, routes, filters or cluster).
 */
export interface FilterChainsSnapshot {
  readonly chains: readonly FilterChainSnapshot[];
  /** The index in `chains` of a connection's chain (filter-chains/select.ts). */
  readonly selector: ChainSelector<number>;
  /** The listener's own keys make a default chain for connections no chain matches; false: they are closed. */
  readonly hasDefault: boolean;
  /** `listener.<name>.no_filter_chain_match`: closed for want of a chain (no default). */
  readonly noMatch: Counter;
}

export interface FilterChainSnapshot {
  /** Unique within the listener; a snapshot that keeps the name keeps the chain's live connections on it. */
  readonly name: string;
  /** Its own `listenerFilters` and `filterChains` are null. */
  readonly settings: ListenerSnapshot;
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

/** Public surface of the data plane (implemented by `DataPlane`). */
export interface DataPlaneApi {
  applySnapshot(snapshot: ConfigSnapshot): void;
  /** A cluster's new members (RCU): the next pick uses them; requests in flight finish where they are. */
  applyMembership(m: ClusterMembership): void;
  addListener(name: string, server: Server, source?: ListenSource | null): void;
  startDrain(req: DrainRequest): void;
  hurry(graceMs: number): void;
  stopAccepting(): void;
  connections(): number;
  closeAll(reason: string): number;
  whenIdle(): Promise<void>;
  shutdown(): Promise<void>;
}
