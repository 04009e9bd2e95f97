/**
 * The proxyctl config, as the rest of the program sees it: validated, with every default
 * filled in, durations in milliseconds, addresses parsed, and deeply frozen. An epoch gets one
 * of these and never another; a new config is a new epoch.
 *
 * The shape follows the YAML file (proxyctl.yaml(5)) key for key, except that durations gain
 * an `Ms` suffix and an absent `admin` becomes `null`.
 */
import type { HttpRoutingKeys, VirtualHostRouteConfig } from './types-router.js';
export type { DirectResponse } from './types-router.js';
import type { ListenerTlsConfig } from './types-tls.js';
export type * from './types-tls.js';
import type { HttpFilterConfig } from './types-http-filters.js';
export type { HttpFilterConfig } from './types-http-filters.js';
import type { AccessLogConfig } from './types-access-log.js';
import type { ListenerFilterConfig } from './types-listener-filters.js';
export type * from './types-listener-filters.js';
import type { ClusterConfig } from './types-cluster.js';
export type * from './types-cluster.js';
import type { StatsConfig } from './types-stats.js';
export type * from './types-stats.js';

export type { AccessLogConfig } from './types-access-log.js';

/** A parsed `host:port`. IPv6 hosts are stored without brackets, in compressed form. */
export interface SocketAddress {
  readonly host: string;
  readonly port: number;
}

export interface ProxyConfig {
  /** Worker threads per epoch, 1..64. Default: the CPUs this process may use, at most 64. */
  readonly workers: number;
  /** The admin HTTP endpoint, or `null` when the file has no `admin` section (no endpoint). */
  readonly admin: AdminConfig | null;
  /** At least one. Names and addresses are unique. */
  readonly listeners: readonly ListenerConfig[];
  /** Possibly empty (a config that only sends direct responses needs none). Names are unique. */
  readonly clusters: readonly ClusterConfig[];
  readonly drain: DrainConfig;
  /**
   * Keep a warm standby epoch (code loaded, workers started, no config) for the next reload,
   * so a reload starts no process. Default true. Read by the supervisor from the current config.
   */
  readonly standby: boolean;
  /** Stats sinks and their flush interval (no sinks by default). */
  readonly stats: StatsConfig;
  /** Present only when the file has `limits`. */
  readonly limits?: LimitsConfig;
}

/** `limits`: caps on one epoch. An absent `maxConnections` is derived from RLIMIT_NOFILE when the epoch starts. */
export interface LimitsConfig {
  readonly maxConnections?: number;
}

/**
 * Where the admin endpoint listens: a TCP address (loopback unless the file said
 * `allowRemote: true`), or the Unix socket `<runtime dir>/base-<N>/admin.sock` (mode 0600).
 */
export type AdminConfig = { readonly address: SocketAddress } | { readonly unix: true };

/** A listener is either L7 (`http`, with routes) or L4 (`tcp`, straight to one cluster). */
export type ListenerConfig = HttpListenerConfig | TcpListenerConfig;
export type ListenerProtocol = ListenerConfig['protocol'];

interface ListenerBase {
  /** Matches `^[A-Za-z0-9_-]+$`; it appears in stat names such as `listener.<name>.downstream_cx_total`. */
  readonly name: string;
  readonly address: SocketAddress;
  /** TLS termination; absent: plain TCP. */
  readonly tls?: ListenerTlsConfig;
  /** Present only when the file lists at least one (see types-access-log.ts). */
  readonly accessLog?: readonly AccessLogConfig[];
  /** Run before TLS and the network filter, in order; present only when the file lists at least one. */
  readonly listenerFilters?: readonly ListenerFilterConfig[];
  /** Only the keys the file sets (schema-timeouts.ts); the rest are the plane's defaults. */
  readonly timeouts?: ListenerTimeoutsConfig;
  /** The listener's own connection cap over all workers; present only when the file sets it. */
  readonly maxConnections?: number;
}

/** `listeners[].timeouts`, in ms; tcpIdleMs on tcp listeners only, the others on http ones. */
export interface ListenerTimeoutsConfig {
  readonly requestHeadersMs?: number;
  readonly idleMs?: number;
  readonly requestBodyMs?: number;
  readonly sendMs?: number;
  readonly tcpIdleMs?: number;
}

// Filter chains (proxyctl.yaml(5), `listeners[].filterChains`): alternative settings of one
// listener, chosen per connection after the listener filters by what is known of it then —
// the destination port and source address (after the PROXY protocol, if the listener has
// it), and the SNI name, ALPN list and transport that `tlsInspector` found. The listener's
// own keys are the default chain, used when no chain matches; a listener with chains and
// without those keys closes a connection no chain matches. Present on a listener only when
// its file lists at least one chain.

/**
 * What a connection must have for a chain to be considered; an absent criterion matches
 * everything. See `src/proxy/filter-chains/select.ts` for how the most specific chain wins.
 */
export interface FilterChainMatchConfig {
  /** The port the client connected to (the PROXY header's destination, if any); null: any. */
  readonly destinationPort: number | null;
  /** Lower case; exact names, or `*.suffix` for any name ending in `.suffix`. Empty: any (and none). */
  readonly serverNames: readonly string[];
  /** `tls`: the inspector found a ClientHello; `raw`: it did not, or the listener has no inspector. Null: any. */
  readonly transport: 'tls' | 'raw' | null;
  /** Matches when the client offers at least one of these. Empty: any (and none). */
  readonly alpn: readonly string[];
  /** Canonical CIDR ranges (host bits zero) of the client address. Empty: any. */
  readonly sourceCidrs: readonly string[];
}

interface FilterChainBase {
  /** The file's `name`, or `#<index>` when it has none. Unique within the listener. */
  readonly name: string;
  readonly match: FilterChainMatchConfig;
  /** TLS termination for this chain; absent: the bytes go on as they came (TLS passes through on tcp). */
  readonly tls?: ListenerTlsConfig;
}

/** A chain of a tcp listener: where its connections go. */
export interface TcpFilterChainConfig extends FilterChainBase {
  readonly cluster: string;
}

/** A chain of an http listener: its own routes (either form), HTTP filters, h2c and head limits. */
export interface HttpFilterChainConfig extends FilterChainBase, HttpRoutingKeys {
  readonly http2: boolean;
  /** Empty when `virtualHosts` is set. */
  readonly routes: readonly RouteConfig[];
  readonly httpFilters?: readonly HttpFilterConfig[];
  readonly maxRequestHeadersKb?: number;
  readonly maxRequestHeaders?: number;
  readonly allowConnect?: true;
}

export interface HttpListenerConfig extends ListenerBase, HttpRoutingKeys {
  readonly protocol: 'http';
  /** Also accept HTTP/2 over cleartext with prior knowledge (h2c). Default false. */
  readonly http2: boolean;
  /** Request heads past this size (KiB, 1..1024) get 431. Absent: 60. */
  readonly maxRequestHeadersKb?: number;
  /** Request heads with more fields (1..1000) get 431. Absent: 100. */
  readonly maxRequestHeaders?: number;
  /** CONNECT requests are tunnelled to their route's cluster (proxy/http/connect.ts); present only when true. */
  readonly allowConnect?: true;
  /** At least one, tried in order; the first whose match fits the request wins. Empty when `virtualHosts` is set (types-router.ts). */
  readonly routes: readonly RouteConfig[];
  /** HTTP filters run in order before the router (proxyctl.yaml(5)); absent when there are none. */
  readonly httpFilters?: readonly HttpFilterConfig[];
  /** Present only when the file lists at least one; then empty `routes` and no `virtualHosts` mean no default chain. */
  readonly filterChains?: readonly HttpFilterChainConfig[];
}

export interface TcpListenerConfig extends ListenerBase {
  readonly protocol: 'tcp';
  /** The name of a cluster defined in `clusters`. Absent only with `filterChains`: then there is no default chain. */
  readonly cluster?: string;
  /** Present only when the file lists at least one. */
  readonly filterChains?: readonly TcpFilterChainConfig[];
}

/** A route of the `routes:` shorthand: the same as a virtual host's (types-router.ts). */
export type RouteConfig = VirtualHostRouteConfig;


/** How an epoch that is being replaced lets go of its connections. */
export interface DrainConfig {
  /** `gradual` (default) asks a growing share of connections to close over the drain time; `immediate` asks all at once. */
  readonly strategy: DrainStrategy;
  /** How long the old epoch drains before it stops serving. Default: 30 s. */
  readonly drainTimeMs: number;
  /** When the old epoch is terminated at the latest; never less than `drainTimeMs`. Default: 45 s. */
  readonly parentShutdownTimeMs: number;
}

export type DrainStrategy = 'gradual' | 'immediate';

/** A config that passed validation, with what later code logs about it. */
export interface LoadedConfig {
  readonly config: ProxyConfig;
  /** First 12 hex digits of the SHA-256 of the normalized config as JSON. */
  readonly hash: string;
  /** The file name (or other label) the text came from, as used in error positions. */
  readonly source: string;
}

/** One problem in a config file, at a 1-based line and column. */
export interface ConfigIssue {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  /** Where in the document: `listeners[0].routes[1].cluster`, `(root)`, or `(yaml)` for syntax errors. */
  readonly path: string;
  readonly message: string;
}

/** Knobs for tests and for hosts that want to pin what "default" means. */
export interface ParseOptions {
  /** CPUs to assume for the default worker count. Default: `os.availableParallelism()`. */
  readonly cpus?: number;
}
