/**
 * Builds the immutable per-worker snapshot from a validated config: every stat handle and every
 * direct-response byte is resolved here, once, so the request path never looks anything up by
 * name. Call it in the thread that will use the snapshot (stat handles are views on that
 * thread's mapping); the main thread posts the plain `ProxyConfig`.
 */
import { STATUS_CODES } from 'node:http';
import type { ClusterConfig, DirectResponse, FilterChainMatchConfig, HttpFilterChainConfig, HttpListenerConfig, ListenerConfig, ListenerTimeoutsConfig, ListenerTlsConfig, ProxyConfig } from '../config/types.js';
import type { StatsStore } from '../shm/types.js';
import { listenerTlsSnapshot, upstreamTlsSnapshot } from './tls/snapshot-tls.js';
import { buildAccessLog } from './access-log/access-log.js';
import { buildFilterChainFactory } from './http/filter-chain-factory.js';
import { MAX_HEADERS, MAX_HEAD_BYTES } from './http/head.js';
import { buildListenerFilters } from './listener-filters/index.js';
import { FilterChainSelector } from './filter-chains/select.js';
import { LB_POLICIES } from './lb/index.js';
import { LISTENER_TIMEOUT_NAMES } from './timeouts.js';
import { staticMembership } from '../clusters/membership.js';
import type { ClusterMembership } from '../clusters/types.js';
import type {
  ClusterSnapshot,
  ClusterStats,
  ConfigSnapshot,
  DirectResponseSnapshot,
  FilterChainSnapshot,
  FilterChainsSnapshot,
  HttpListenerSnapshot,
  HttpStats,
  ListenerSnapshot,
  ListenerStats,
  ListenerTimeouts,
  ListenerTlsSnapshot,
  TcpListenerSnapshot,
} from './types.js';

let nextVersion = 1;

export interface SnapshotOptions {
  /** What the cluster manager published so far; a cluster without one starts from its static endpoints. */
  readonly memberships?: ReadonlyMap<string, ClusterMembership>;
  /** The load balancers' randomness (tests pass a fixed one). Default Math.random. */
  readonly random?: () => number;
}

export function buildSnapshot(config: ProxyConfig, stats: StatsStore, opts: SnapshotOptions = {}): ConfigSnapshot {
  const clusters = new Map<string, ClusterSnapshot>();
  const random = opts.random ?? Math.random;
  for (const c of config.clusters) clusters.set(c.name, clusterSnapshot(c, stats, opts.memberships?.get(c.name) ?? staticMembership(c), random));
  const listeners = new Map<string, ListenerSnapshot>();
  for (const l of config.listeners) listeners.set(l.name, listenerSnapshot(l, clusters, stats, config.workers));
  return Object.freeze({ version: nextVersion++, listeners, clusters });
}

function clusterSnapshot(c: ClusterConfig, stats: StatsStore, membership: ClusterMembership, random: () => number): ClusterSnapshot {
  const cb = c.circuitBreakers;
  const limits = Object.freeze({
    maxConnections: cb.maxConnections,
    maxPendingRequests: cb.maxPendingRequests,
    maxRequests: cb.maxRequests,
    maxRetries: cb.maxRetries,
    maxRequestsPerConnection: c.maxRequestsPerConnection ?? Infinity,
  });
  const balancing = Object.freeze({
    policy: LB_POLICIES[c.lb],
    options: Object.freeze({ choiceCount: c.choiceCount, ringSize: c.ringSize, maglevTableSize: c.maglevTableSize, random }),
    hashOn: c.hashOn,
    slowStart: c.slowStart,
    panicThreshold: c.healthyPanicThreshold,
  });
  const od = c.outlierDetection;
  return Object.freeze({
    name: c.name,
    stats: clusterStats(c.name, stats),
    protocol: c.protocol,
    limits,
    tls: c.tls === undefined ? null : upstreamTlsSnapshot(c.tls),
    balancing,
    outlier: od === null ? null : Object.freeze({ consecutive5xx: od.consecutive5xx, consecutiveGatewayFailure: od.consecutiveGatewayFailure }),
    membership,
  });
}

export function clusterStats(name: string, stats: StatsStore): ClusterStats {
  const p = `cluster.${name}.`;
  return {
    rqTotal: stats.counter(`${p}upstream_rq_total`),
    cxTotal: stats.counter(`${p}upstream_cx_total`),
    cxActive: stats.gauge(`${p}upstream_cx_active`),
    cxConnectFail: stats.counter(`${p}upstream_cx_connect_fail`),
    cxConnectFdExhausted: stats.counter(`${p}upstream_cx_connect_fd_exhausted`),
    rq503: stats.counter(`${p}upstream_rq_503`),
    rq504: stats.counter(`${p}upstream_rq_504`),
    rqProtocolError: stats.counter(`${p}upstream_rq_protocol_error`),
    rqTimeout: stats.counter(`${p}upstream_rq_timeout`),
    rqPerTryTimeout: stats.counter(`${p}upstream_rq_per_try_timeout`),
    rqRetry: stats.counter(`${p}upstream_rq_retry`),
    rqRetrySuccess: stats.counter(`${p}upstream_rq_retry_success`),
    rqTime: stats.histogram(`${p}upstream_rq_time`),
    rqPendingTotal: stats.counter(`${p}upstream_rq_pending_total`),
    rqPendingActive: stats.gauge(`${p}upstream_rq_pending_active`),
    rqPendingOverflow: stats.counter(`${p}upstream_rq_pending_overflow`),
    cxOverflow: stats.counter(`${p}upstream_cx_overflow`),
    cxMaxRequests: stats.counter(`${p}upstream_cx_max_requests`),
    cxHttp2Total: stats.counter(`${p}upstream_cx_http2_total`),
    cxNoneHealthy: stats.counter(`${p}upstream_cx_none_healthy`),
    lbHealthyPanic: stats.counter(`${p}lb_healthy_panic`),
    rqRetryOverflow: stats.counter(`${p}upstream_rq_retry_overflow`),
  };
}

export function listenerStats(name: string, stats: StatsStore): ListenerStats {
  const p = `listener.${name}.`;
  return {
    cxTotal: stats.counter(`${p}downstream_cx_total`),
    cxActive: stats.gauge(`${p}downstream_cx_active`),
    cxDrainClose: stats.counter(`${p}downstream_cx_drain_close`),
    cxDrainIdleClose: stats.counter(`${p}downstream_cx_drain_idle_close`),
    cxDrainForced: stats.counter(`${p}downstream_cx_drain_forced`),
  };
}

export function httpStats(name: string, stats: StatsStore): HttpStats {
  const p = `http.${name}.`;
  const rqTotal = stats.counter(`${p}downstream_rq_total`);
  return {
    rqTotal,
    // Index 0 is never a status class; it aliases rq_total only to keep the array dense.
    rqByClass: [rqTotal, ...[1, 2, 3, 4, 5].map((k) => stats.counter(`${p}downstream_rq_${k}xx`))],
    rqTime: stats.histogram(`${p}downstream_rq_time`),
    rqProtocolError: stats.counter(`${p}downstream_rq_protocol_error`),
    rqResponseReset: stats.counter(`${p}downstream_rq_response_reset`),
    cxHttp1Active: stats.gauge(`${p}downstream_cx_http1_active`),
    cxHttp2Active: stats.gauge(`${p}downstream_cx_http2_active`),
    cxUpgradesTotal: stats.counter(`${p}downstream_cx_upgrades_total`),
    cxUpgradesActive: stats.gauge(`${p}downstream_cx_upgrades_active`),
    rxReset: stats.counter(`${p}downstream_rq_rx_reset`),
    h2Abuse: {
      goaway: stats.counter(`${p}http2.abuse_goaway`),
      rapidReset: stats.counter(`${p}http2.abuse_rapid_reset`),
      continuationFlood: stats.counter(`${p}http2.abuse_continuation_flood`),
      pingFlood: stats.counter(`${p}http2.abuse_ping_flood`),
      settingsFlood: stats.counter(`${p}http2.abuse_settings_flood`),
    },
    rqHeaderTimeout: stats.counter(`${p}downstream_rq_header_timeout`),
    cxIdleTimeout: stats.counter(`${p}downstream_cx_idle_timeout`),
    rqIdleTimeout: stats.counter(`${p}downstream_rq_idle_timeout`),
    rqSendTimeout: stats.counter(`${p}downstream_rq_send_timeout`),
  };
}

function listenerSnapshot(l: ListenerConfig, clusters: Map<string, ClusterSnapshot>, stats: StatsStore, workers: number): ListenerSnapshot {
  // Every chain of the listener shares these: one set of listener stats, one access log.
  const shared = { name: l.name, stats: listenerStats(l.name, stats), timeouts: listenerTimeouts(l.timeouts), accessLog: buildAccessLog(l.name, l.accessLog, stats), listenerFilters: null, filterChains: null };
  const listenerFilters = buildListenerFilters(l.name, l.listenerFilters, stats);
  const tlsOf = (t: ListenerTlsConfig | undefined): ListenerTlsSnapshot | null => (t === undefined ? null : listenerTlsSnapshot(l.name, t, stats));
  if (l.protocol === 'tcp') {
    const idleTimeout = stats.counter(`tcp.${l.name}.idle_timeout`);
    const settings = (cluster: string | undefined, tls: ListenerTlsConfig | undefined): TcpListenerSnapshot =>
      Object.freeze({ protocol: 'tcp', ...shared, idleTimeout, cluster: cluster === undefined ? null : mustCluster(clusters, cluster), tls: tlsOf(tls) });
    const chains = l.filterChains?.map((c) => ({ name: c.name, match: c.match, settings: settings(c.cluster, c.tls) }));
    return Object.freeze({ ...settings(l.cluster, l.tls), listenerFilters, filterChains: chainsSnapshot(l.name, chains, l.cluster !== undefined, stats) });
  }
  const http = httpStats(l.name, stats);
  const settings = (config: HttpListenerConfig): HttpListenerSnapshot =>
    Object.freeze({ protocol: 'http', ...shared, http, http2: config.http2, headBytes: (config.maxRequestHeadersKb ?? MAX_HEAD_BYTES / 1024) * 1024, headFields: config.maxRequestHeaders ?? MAX_HEADERS, config, filterChain: buildFilterChainFactory(config, { stats, workers }), tls: tlsOf(config.tls) });
  const chains = l.filterChains?.map((c) => ({ name: c.name, match: c.match, settings: settings(chainListener(l, c)) }));
  const hasDefault = l.routes.length > 0 || l.virtualHosts !== undefined;
  return Object.freeze({ ...settings(l), listenerFilters, filterChains: chainsSnapshot(l.name, chains, hasDefault, stats) });
}

/** The config's timeouts under the names the connections read (proxy/timeouts.ts). */
function listenerTimeouts(t: ListenerTimeoutsConfig | undefined): ListenerTimeouts {
  if (t === undefined) return EMPTY_TIMEOUTS;
  const out: { -readonly [K in keyof ListenerTimeouts]: number } = {};
  for (const n of LISTENER_TIMEOUT_NAMES) {
    const ms = t[n.config];
    if (ms !== undefined) out[n.plane] = ms;
  }
  return Object.freeze(out);
}

const EMPTY_TIMEOUTS: ListenerTimeouts = Object.freeze({});

/** The listener as one of its http chains makes it: the listener's name and address, the chain's keys. */
function chainListener(l: HttpListenerConfig, c: HttpFilterChainConfig): HttpListenerConfig {
  const { name: _name, match: _match, ...keys } = c;
  return { name: l.name, address: l.address, protocol: 'http', ...keys };
}

function chainsSnapshot(
  listener: string,
  chains: readonly (FilterChainSnapshot & { readonly match: FilterChainMatchConfig })[] | undefined,
  hasDefault: boolean,
  stats: StatsStore,
): FilterChainsSnapshot | null {
  if (chains === undefined || chains.length === 0) return null;
  return Object.freeze({
    chains: Object.freeze(chains.map((c) => Object.freeze({ name: c.name, settings: c.settings }))),
    selector: new FilterChainSelector(chains.map((c, i) => ({ match: c.match, value: i }))),
    hasDefault,
    noMatch: stats.counter(`listener.${listener}.no_filter_chain_match`),
  });
}

function mustCluster(clusters: Map<string, ClusterSnapshot>, name: string): ClusterSnapshot {
  const c = clusters.get(name);
  // The config's cross-checks guarantee this; a snapshot with a dangling reference is a bug.
  if (c === undefined) throw new Error(`route refers to unknown cluster ${name}`);
  return c;
}

/** The three wire images of a direct response, built once per snapshot. `extra`: more CRLF-ended header lines. */
export function directResponse(d: DirectResponse, extra = ''): DirectResponseSnapshot {
  const body = Buffer.from(d.body, 'utf8');
  const head = (conn: string): string =>
    `HTTP/1.1 ${d.status} ${STATUS_CODES[d.status] ?? 'Unknown'}\r\n` +
    `content-type: text/plain\r\ncontent-length: ${body.length}\r\n${extra}${conn}\r\n`;
  const image = (conn: string): [Buffer, number] => {
    const h = Buffer.from(head(conn), 'latin1');
    return [Buffer.concat([h, body]), h.length];
  };
  const [keepAlive, ka] = image('');
  const [close, cl] = image('connection: close\r\n');
  const [keepAlive10, ka10] = image('connection: keep-alive\r\n');
  return Object.freeze({ status: d.status, keepAlive, close, keepAlive10, headBytes: { keepAlive: ka, close: cl, keepAlive10: ka10 } });
}
