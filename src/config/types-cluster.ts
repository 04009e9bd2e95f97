/**
 * A cluster as the rest of the program sees it: where its endpoints come from (discovery), how
 * a request picks one (load balancing), how their health is judged (active checks, outlier
 * detection) and the circuit breakers. Every default is filled in; durations are in ms.
 * The YAML spelling is in proxyctl.yaml(5).
 */
import type { UpstreamTlsConfig } from './types-tls.js';

/** What the proxy speaks to the endpoints: `http1` or `http2` (h2c, or h2 by ALPN with `tls`). */
export type ClusterProtocol = 'http1' | 'http2';

export type DiscoveryType = 'static' | 'strictDns' | 'file';

export type LbPolicyName = 'roundRobin' | 'leastRequest' | 'random' | 'ringHash' | 'maglev';

/** Where an endpoint runs, as Envoy spells it; each part optional. Shown, not yet used to route. */
export interface Locality {
  readonly region?: string;
  readonly zone?: string;
  readonly subZone?: string;
}

/** Free-form facts about an endpoint (shown by the admin API). */
export type EndpointMetadata = Readonly<Record<string, string | number | boolean>>;

/** One endpoint: from the config (`static`), a DNS answer or an endpoints file. */
export interface EndpointConfig {
  /** An IP literal or `localhost` (a DNS name only through `strictDns`). */
  readonly host: string;
  readonly port: number;
  /** 1..128; default 1. */
  readonly weight: number;
  readonly locality: Locality | null;
  readonly metadata: EndpointMetadata | null;
}

export interface DnsDiscoveryConfig {
  /** The name resolved, every A and AAAA record of it (see `family`). */
  readonly name: string;
  /** The port every resolved address gets. */
  readonly port: number;
  /** Default 5 s. */
  readonly refreshRateMs: number;
  /** Servers asked instead of the system's (`host:port`); empty: the system resolver's servers. */
  readonly resolvers: readonly { readonly host: string; readonly port: number }[];
  /** `v4` (A), `v6` (AAAA) or `all` (both; default). */
  readonly family: 'v4' | 'v6' | 'all';
}

export interface FileDiscoveryConfig {
  /** Absolute (resolved against the config file's directory). YAML or JSON: `endpoints: [...]`. */
  readonly path: string;
}

/** The key a hash policy hashes. Exactly one member is set. */
export type HashOnConfig = { readonly header: string } | { readonly cookie: string } | { readonly sourceIp: true };

export interface SlowStartConfig {
  /** How long a new (or newly healthy) host ramps up. */
  readonly windowMs: number;
  /** The ramp's curve: weight × (elapsed / window)^(1 / aggression). Default 1 (linear). */
  readonly aggression: number;
  /** The share of its weight a host starts with, 1..100. Default 10. */
  readonly minWeightPercent: number;
}

export interface HttpHealthCheckConfig {
  readonly path: string;
  /** The Host header; default: the cluster's name. */
  readonly host: string | null;
  /** Inclusive ranges; default [[200, 299]]. */
  readonly expectedStatuses: readonly (readonly [number, number])[];
}

export interface TcpHealthCheckConfig {
  /** Bytes written after connecting, as hex (the config is plain data), or null: a connect alone is the check. */
  readonly send: string | null;
  /** Hex byte strings; each must appear in what the host answers (in any order), or empty: nothing is read. */
  readonly expect: readonly string[];
}

export interface HealthCheckConfig {
  /** Exactly one of `http`, `tcp`. */
  readonly http: HttpHealthCheckConfig | null;
  readonly tcp: TcpHealthCheckConfig | null;
  /** Between checks of a host. Default 5 s. */
  readonly intervalMs: number;
  /** Each check waits at most `intervalMs + random(0..jitterMs)`. Default: a tenth of the interval. */
  readonly jitterMs: number;
  /** A check that takes longer fails. Default 1 s. */
  readonly timeoutMs: number;
  /** Failed checks in a row that mark a healthy host unhealthy. Default 3. */
  readonly unhealthyThreshold: number;
  /** Passed checks in a row that mark an unhealthy host healthy. Default 2 (a never-checked host: 1). */
  readonly healthyThreshold: number;
}

export interface OutlierDetectionConfig {
  /** 5xx responses in a row (local failures count as 503) that eject a host; 0: off. Default 5. */
  readonly consecutive5xx: number;
  /** 502/503/504 and connect failures, resets and timeouts in a row that eject; 0: off. Default 5. */
  readonly consecutiveGatewayFailure: number;
  /** How often ejections are lifted and success rates computed. Default 10 s. */
  readonly intervalMs: number;
  /** An ejection lasts this × the host's ejection count (capped by `maxEjectionTimeMs`). Default 30 s. */
  readonly baseEjectionTimeMs: number;
  /** Default 300 s. */
  readonly maxEjectionTimeMs: number;
  /** At most this share of the cluster is ejected at once, but one host always may be. Default 10. */
  readonly maxEjectionPercent: number;
  /** Success-rate ejection, or null (off). */
  readonly successRate: SuccessRateConfig | null;
}

export interface SuccessRateConfig {
  /** Hosts with at least `requestVolume` requests in the interval needed before any is judged. Default 5. */
  readonly minimumHosts: number;
  /** Requests in the interval a host needs to be judged. Default 100. */
  readonly requestVolume: number;
  /** Ejected below mean − stdevFactor × stdev of the judged hosts' success rates. Default 1.9. */
  readonly stdevFactor: number;
}

/** Envoy's circuit breakers, for the whole epoch (all workers together). */
export interface CircuitBreakersConfig {
  /** Connections (HTTP/2: sessions) to the cluster's endpoints. Default 1024. */
  readonly maxConnections: number;
  /** Requests waiting for a connection or a stream. Default 1024. */
  readonly maxPendingRequests: number;
  /** Requests in flight to the cluster. Default 1024. */
  readonly maxRequests: number;
  /** Retries in flight to the cluster. Default 3. */
  readonly maxRetries: number;
}

export interface ClusterConfig {
  /** Matches `^[A-Za-z0-9_-]+$`; it appears in stat names such as `cluster.<name>.upstream_rq_total`. */
  readonly name: string;
  readonly discovery: DiscoveryType;
  /** `static`: at least one. Other discovery types: empty. */
  readonly endpoints: readonly EndpointConfig[];
  /** Set with `strictDns` only. */
  readonly dns: DnsDiscoveryConfig | null;
  /** Set with `file` only. */
  readonly file: FileDiscoveryConfig | null;
  /** TLS to the endpoints; absent: plain TCP. */
  readonly tls?: UpstreamTlsConfig;
  readonly protocol: ClusterProtocol;
  readonly lb: LbPolicyName;
  /** Set with `ringHash` and `maglev` only; without it they hash nothing and act like `random`. */
  readonly hashOn: HashOnConfig | null;
  /** `leastRequest`: hosts drawn per pick (default 2). */
  readonly choiceCount: number;
  /** `ringHash`: points on the ring per host of the average weight (default 1024; more spreads keys more evenly). */
  readonly ringSize: number;
  /** `maglev`: a prime table size (default 65537). */
  readonly maglevTableSize: number;
  readonly slowStart: SlowStartConfig | null;
  /** Below this percentage of healthy hosts, traffic spreads over all of them (panic). Default 50; 0: never. */
  readonly healthyPanicThreshold: number;
  readonly healthCheck: HealthCheckConfig | null;
  readonly outlierDetection: OutlierDetectionConfig | null;
  readonly circuitBreakers: CircuitBreakersConfig;
  /** Null when unlimited (the default). */
  readonly maxRequestsPerConnection: number | null;
}
