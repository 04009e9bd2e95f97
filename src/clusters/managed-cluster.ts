/**
 * One cluster's state on the epoch's main thread: its members (from discovery), each member's
 * active-check verdict and outlier state, and the membership snapshots published to the
 * workers. Every change of any of those publishes a new snapshot, at most one per event-loop
 * turn (a first check round of 50 hosts is one publication, not 50).
 *
 * A host's flags: `FAILED_ACTIVE_HC` while active checks say unhealthy, or have not said
 * anything yet (a new host takes no traffic before its first check, as in Envoy);
 * `DEGRADED` when they say degraded; `OUTLIER_EJECTED` while ejected. Slow start counts from
 * `since`: when a host joins an initialized cluster, or passes checks again after failing.
 */
import type { ClusterConfig, EndpointConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import type { Counter, Gauge } from '../shm/handles.js';
import type { StatsStore } from '../shm/types.js';
import { createDiscovery } from './discovery/index.js';
import { createHealthChecker } from './health/checker.js';
import { TrafficSet, hostData, hostKey, newBudget, newHostCounters, trafficSet } from './membership.js';
import { OutlierDetector } from './outlier/detector.js';
import { HostFlag, HostSlot, type ActiveHealth, type ClusterMembership, type Discovery, type HandedHost, type HealthChecker, type HostView, type ClusterView, type OutlierKind, type OutlierState } from './types.js';

interface HostState {
  endpoint: EndpointConfig;
  readonly counters: SharedArrayBuffer;
  readonly view: Int32Array;
  /** Null when the cluster has no active checks. */
  health: ActiveHealth | null;
  since: number;
}

export interface ManagedClusterDeps {
  readonly stats: StatsStore;
  readonly log: Logger;
  readonly publish: (m: ClusterMembership) => void;
  readonly now: () => number;
}

interface MembershipStats {
  readonly total: Gauge;
  readonly healthy: Gauge;
  readonly degraded: Gauge;
  readonly change: Counter;
}

export class ManagedCluster {
  private readonly hosts = new Map<string, HostState>();
  private readonly budget = newBudget();
  private readonly discovery: Discovery;
  private readonly checker: HealthChecker | null;
  private readonly outlier: OutlierDetector | null;
  private readonly stats: MembershipStats;
  private version = 0;
  private current: ClusterMembership;
  private dirty = false;
  private stopped = false;
  /** Set once the first answer of discovery was applied: hosts added after it ramp up (slow start). */
  private initialized = false;

  constructor(
    readonly config: ClusterConfig,
    private readonly deps: ManagedClusterDeps,
    /** What the previous epoch knew about these hosts, by host key (empty on a cold start). */
    private readonly handed: ReadonlyMap<string, HandedHost>,
  ) {
    const p = `cluster.${config.name}.`;
    // A gauge per epoch lane, shown as the highest: two epochs overlapping in a reload see the same hosts.
    this.stats = {
      total: deps.stats.gauge(`${p}membership_total`, 'max'),
      healthy: deps.stats.gauge(`${p}membership_healthy`, 'max'),
      degraded: deps.stats.gauge(`${p}membership_degraded`, 'max'),
      change: deps.stats.counter(`${p}membership_change`),
    };
    this.current = { cluster: config.name, version: 0, hosts: [], budget: this.budget };
    this.checker = config.healthCheck === null ? null : createHealthChecker(config, { stats: deps.stats, log: deps.log, events: { onHealth: (key, h) => this.onHealth(key, h) } });
    this.outlier = config.outlierDetection === null ? null : new OutlierDetector(config.outlierDetection, { stats: deps.stats, cluster: config.name, log: deps.log, now: deps.now, onChange: () => this.changed() });
    this.outlier?.start();
    this.discovery = createDiscovery(config, { stats: deps.stats, log: deps.log });
    // Discovery logs and counts its own failures; the last good set simply stays.
    this.discovery.start({ onEndpoints: (eps) => this.onEndpoints(eps), onError: () => {} });
  }

  /**
   * Settles when the workers may start: discovery answered (or gave up), and every host whose
   * health nobody handed over has had its first check. Each wait is bounded, so a dead
   * resolver or a silent host delays an epoch's start by at most `timeoutMs` per step.
   */
  async ready(timeoutMs: number): Promise<void> {
    await this.discovery.initialized(timeoutMs);
    const hc = this.config.healthCheck;
    if (this.checker !== null && hc !== null && [...this.hosts.values()].some((h) => h.health === 'unknown')) await this.checker.firstRound(Math.min(timeoutMs, hc.timeoutMs + 1_000));
    this.flush();
  }

  /** The latest membership (what a worker configured now starts with). */
  membership(): ClusterMembership {
    this.flush();
    return this.current;
  }

  /** A worker saw a host's consecutive failures reach a threshold. */
  onOutlier(key: string, kind: OutlierKind): void {
    if (this.hosts.has(key)) this.outlier?.report(key, kind);
  }

  /** What the next epoch should start from. */
  handoff(): Record<string, HandedHost> {
    const out: Record<string, HandedHost> = {};
    for (const [key, h] of this.hosts) out[key] = { health: h.health ?? 'healthy', outlier: this.outlierState(key) };
    return out;
  }

  view(): ClusterView {
    const hosts: HostView[] = [];
    let healthy = 0;
    let degraded = 0;
    for (const [key, h] of this.hosts) {
      const flags = this.flagsOf(key, h);
      if (flags === 0) healthy++;
      else if (flags === HostFlag.DEGRADED) degraded++;
      hosts.push({
        address: key,
        weight: h.endpoint.weight,
        locality: h.endpoint.locality,
        metadata: h.endpoint.metadata,
        health: h.health,
        flags: flagNames(flags),
        activeRequests: Atomics.load(h.view, HostSlot.ACTIVE),
        outlier: this.outlier === null ? null : this.outlierState(key),
        since: h.since,
      });
    }
    const panic = trafficSet(healthy, degraded, hosts.length, this.config.healthyPanicThreshold) === TrafficSet.All;
    return { name: this.config.name, discovery: this.config.discovery, lb: this.config.lb, hosts, healthy, degraded, panic };
  }

  stop(): void {
    this.stopped = true;
    this.discovery.stop();
    this.checker?.stop();
    this.outlier?.stop();
  }

  // ---- events ------------------------------------------------------------------------------

  private onEndpoints(endpoints: readonly EndpointConfig[]): void {
    const now = this.deps.now();
    const next = new Map<string, HostState>();
    const initialHealth = new Map<string, ActiveHealth>();
    const initialOutlier = new Map<string, OutlierState>();
    for (const e of endpoints) {
      const key = hostKey(e);
      const kept = this.hosts.get(key);
      if (kept !== undefined) {
        kept.endpoint = e;
        next.set(key, kept);
        continue;
      }
      const handed = this.handed.get(key);
      const counters = newHostCounters();
      const health = this.checker === null ? null : (handed?.health ?? 'unknown');
      next.set(key, { endpoint: e, counters, view: new Int32Array(counters), health, since: this.initialized ? now : 0 });
      if (handed !== undefined) {
        initialHealth.set(key, handed.health);
        initialOutlier.set(key, handed.outlier);
      }
    }
    this.hosts.clear();
    for (const [k, v] of next) this.hosts.set(k, v);
    this.checker?.setTargets(
      [...next].map(([key, h]) => ({ key, host: h.endpoint.host, port: h.endpoint.port })),
      initialHealth,
    );
    this.outlier?.setHosts(new Map([...next].map(([key, h]) => [key, h.view])), initialOutlier);
    this.initialized = true;
    this.changed();
  }

  private onHealth(key: string, health: ActiveHealth): void {
    const h = this.hosts.get(key);
    if (h === undefined) return;
    // Back from failing checks: it ramps up again. A first verdict does not (a host added to a
    // running cluster got its `since` when it was added).
    if (h.health === 'unhealthy' && health !== 'unhealthy') h.since = this.deps.now();
    h.health = health;
    this.changed();
  }

  // ---- publishing ---------------------------------------------------------------------------

  private changed(): void {
    if (this.dirty || this.stopped) return;
    this.dirty = true;
    setImmediate(() => this.flush());
  }

  /** Publishes the pending change, if any. */
  private flush(): void {
    if (!this.dirty || this.stopped) return;
    this.dirty = false;
    let healthy = 0;
    let degraded = 0;
    const hosts = [...this.hosts].map(([key, h]) => {
      const flags = this.flagsOf(key, h);
      if (flags === 0) healthy++;
      else if (flags === HostFlag.DEGRADED) degraded++;
      return hostData(h.endpoint, flags, h.since, h.counters);
    });
    this.current = { cluster: this.config.name, version: ++this.version, hosts, budget: this.budget };
    this.stats.total.set(hosts.length);
    this.stats.healthy.set(healthy);
    this.stats.degraded.set(degraded);
    this.stats.change.inc();
    this.deps.publish(this.current);
  }

  private flagsOf(key: string, h: HostState): number {
    let flags = 0;
    if (h.health === 'unhealthy' || h.health === 'unknown') flags |= HostFlag.FAILED_ACTIVE_HC;
    else if (h.health === 'degraded') flags |= HostFlag.DEGRADED;
    if (this.outlier?.isEjected(key) === true) flags |= HostFlag.OUTLIER_EJECTED;
    return flags;
  }

  private outlierState(key: string): OutlierState {
    return this.outlier?.state(key) ?? NOT_EJECTED;
  }
}

const NOT_EJECTED: OutlierState = Object.freeze({ ejected: false, ejectedUntil: 0, ejections: 0, lastReason: null });

/** Envoy's names for the health flags (admin /clusters). */
function flagNames(flags: number): string[] {
  const out: string[] = [];
  if ((flags & HostFlag.FAILED_ACTIVE_HC) !== 0) out.push('failed_active_hc');
  if ((flags & HostFlag.OUTLIER_EJECTED) !== 0) out.push('failed_outlier_check');
  if ((flags & HostFlag.DEGRADED) !== 0) out.push('degraded_active_hc');
  return out;
}
