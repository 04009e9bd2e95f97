/**
 * Cluster state, owned by an epoch's main thread: where each cluster's endpoints come from
 * (discovery/), whether they are healthy (health/ for active checks, outlier/ for what the
 * workers' traffic says), and the membership snapshots pushed to the workers (RCU: each
 * worker swaps its reference between events and picks endpoints from its own copy, with no
 * cross-thread call per request).
 *
 * What crosses threads is plain data plus SharedArrayBuffers: each host has a small block of
 * shared counters (`HostCounters`) that workers update with Atomics and the main thread reads,
 * and each cluster has one for its circuit breakers (`BudgetCounters`).
 */
import type { EndpointConfig } from '../config/types.js';

// ---- discovery ----------------------------------------------------------------------------

/** What a discovery source says a cluster's endpoints are now: the full set, never a diff. */
export type DiscoveredEndpoint = EndpointConfig;

export interface DiscoveryEvents {
  /** The endpoint set changed (the first call gives the initial set). Never called with the same set twice in a row. */
  onEndpoints(endpoints: readonly DiscoveredEndpoint[]): void;
  /** A refresh failed; the last good set stays. `code` is a stable PROXYCTL_ERR_* code. */
  onError(code: string, message: string): void;
}

/** One cluster's source of endpoints (discovery/static.ts, strict-dns.ts, file.ts). */
export interface Discovery {
  /** Begins: the first answer (or failure) comes through `events`. */
  start(events: DiscoveryEvents): void;
  /** Settles once the first answer or failure came, or after `timeoutMs`, whichever is first. */
  initialized(timeoutMs: number): Promise<void>;
  stop(): void;
}

// ---- active health checks -----------------------------------------------------------------

/** What a health checker checks. `key` is `host:port` (IPv6 in brackets). */
export interface CheckTarget {
  readonly key: string;
  readonly host: string;
  readonly port: number;
}

/** Where a host stands with active checks. `unknown`: never checked (no handed-over state either). */
export type ActiveHealth = 'unknown' | 'healthy' | 'degraded' | 'unhealthy';

export interface HealthCheckEvents {
  /** A host's verdict changed (thresholds applied). */
  onHealth(key: string, health: ActiveHealth): void;
}

/** Per-host state machine plus the check protocol (health/checker.ts, http.ts, tcp.ts). */
export interface HealthChecker {
  /**
   * The hosts to check from now on: new ones start at `initial.get(key)` (handed over by the
   * previous epoch) or `unknown`; hosts no longer listed stop being checked. Checks of a new
   * host start at once, then every interval with jitter.
   */
  setTargets(targets: readonly CheckTarget[], initial?: ReadonlyMap<string, ActiveHealth>): void;
  /** Settles once every current target has a verdict other than `unknown`, or after `timeoutMs`. */
  firstRound(timeoutMs: number): Promise<void>;
  stop(): void;
}

// ---- passive outlier detection -------------------------------------------------------------

/** What a worker saw cross a threshold (the worker whose update crossed it posts; see HostCounters). */
export type OutlierKind = 'consecutive5xx' | 'consecutiveGatewayFailure';

/** One host's outlier state, as the admin API shows it and a reload hands it over. */
export interface OutlierState {
  readonly ejected: boolean;
  /** Wall-clock ms when the ejection ends; 0 when not ejected. */
  readonly ejectedUntil: number;
  /** Ejections so far (the backoff multiplier); it decays while the host behaves. */
  readonly ejections: number;
  /** The reason of the current or last ejection, or null. */
  readonly lastReason: OutlierKind | 'successRate' | null;
}

// ---- shared counters -----------------------------------------------------------------------

/**
 * Slots of a host's Int32Array over a SharedArrayBuffer. Workers write with Atomics; the main
 * thread reads. Consecutive counts are reset to 0 by a success; a worker whose increment makes
 * one equal the cluster's threshold posts an `outlier` event.
 */
export const HostSlot = {
  /** Requests in flight to the host (all workers): least request, admin, circuit breaker. */
  ACTIVE: 0,
  CONSECUTIVE_5XX: 1,
  CONSECUTIVE_GATEWAY: 2,
  /** Since the main thread last reset them (success-rate detection): responses, and those not 5xx. */
  REQUESTS: 3,
  SUCCESSES: 4,
} as const;
export const HOST_SLOTS = 5;

/** Slots of a cluster's circuit-breaker Int32Array (all workers of the epoch). */
export const BudgetSlot = {
  CONNECTIONS: 0,
  PENDING: 1,
  REQUESTS: 2,
  RETRIES: 3,
} as const;
export const BUDGET_SLOTS = 4;

// ---- membership: main thread → workers ------------------------------------------------------

/** Health flags of a host (bits). 0: healthy. */
export const HostFlag = {
  /** Failed active checks, or never checked yet with checks configured. */
  FAILED_ACTIVE_HC: 1,
  /** Ejected by outlier detection. */
  OUTLIER_EJECTED: 2,
  /** Active checks say degraded (the check answered `x-envoy-degraded`): used only when too few hosts are healthy. */
  DEGRADED: 4,
} as const;

/** One host of a membership snapshot (structured-clone friendly). */
export interface HostData {
  readonly host: string;
  readonly port: number;
  readonly weight: number;
  readonly locality: EndpointConfig['locality'];
  readonly metadata: EndpointConfig['metadata'];
  /** HostFlag bits. */
  readonly flags: number;
  /** Wall-clock ms since which the host takes traffic (added, or healthy again): slow start counts from here. */
  readonly since: number;
  /** HOST_SLOTS Int32 slots, shared by every worker and the main thread; the same buffer for as long as the host is a member. */
  readonly counters: SharedArrayBuffer;
}

/** A cluster's members as the main thread last published them. */
export interface ClusterMembership {
  readonly cluster: string;
  /** Increases with each publication of this cluster; a worker ignores one older than what it has. */
  readonly version: number;
  readonly hosts: readonly HostData[];
  /** BUDGET_SLOTS Int32 slots: the cluster's circuit breakers, one buffer for the epoch's life. */
  readonly budget: SharedArrayBuffer;
}

// ---- reload handoff --------------------------------------------------------------------------

/** What the serving epoch hands the next one so it does not start blind (keyed by cluster, then host key). */
export interface ClusterStateHandoff {
  readonly clusters: Readonly<Record<string, Readonly<Record<string, HandedHost>>>>;
}

export interface HandedHost {
  readonly health: ActiveHealth;
  readonly outlier: OutlierState;
}

// ---- what operators see (admin /clusters, proxyctl status --clusters) -----------------------

export interface HostView {
  /** `host:port` (IPv6 in brackets). */
  readonly address: string;
  readonly weight: number;
  readonly locality: EndpointConfig['locality'];
  readonly metadata: EndpointConfig['metadata'];
  /** Active-check verdict, or null when the cluster has no health check. */
  readonly health: ActiveHealth | null;
  /** Envoy's health flag names that apply now: `failed_active_hc`, `failed_outlier_check`, `degraded_active_hc`. Empty: healthy. */
  readonly flags: readonly string[];
  /** Requests in flight over all workers. */
  readonly activeRequests: number;
  /** Null when the cluster has no outlier detection. */
  readonly outlier: OutlierState | null;
  /** Wall-clock ms since which the host takes traffic (slow start counts from here). */
  readonly since: number;
}

export interface ClusterView {
  readonly name: string;
  readonly discovery: string;
  readonly lb: string;
  readonly hosts: readonly HostView[];
  /** Hosts with no flag, and those only degraded. */
  readonly healthy: number;
  readonly degraded: number;
  /** Too few hosts are healthy: traffic spreads over all of them. */
  readonly panic: boolean;
}

/** Who can say what the clusters look like now (the epoch's cluster manager). */
export interface ClusterViewSource {
  views(): readonly ClusterView[];
}
