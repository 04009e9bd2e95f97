/**
 * Active health checking of one cluster's hosts, on an epoch's main thread. This file keeps the
 * schedule (one timer per host: the next check, or the deadline of the one in flight) and the
 * bookkeeping (stats, log, events, the first round); verdict.ts applies the thresholds and
 * http.ts / tcp.ts make single checks.
 *
 * A new host's first check starts at once, spread over up to `jitterMs` so that a hundred
 * hosts do not fire together; the next one `intervalMs + random(0..jitterMs)` after a check
 * ends (as Envoy times it, so a slow host is never checked twice at once). Every timer is
 * unref'd: checks never keep a process alive on their own, and `stop()` leaves nothing behind.
 */
import type { ClusterConfig, HealthCheckConfig } from '../../config/types-cluster.js';
import type { Logger } from '../../log.js';
import { upstreamTlsSnapshot } from '../../proxy/tls/snapshot-tls.js';
import type { Counter, Gauge } from '../../shm/handles.js';
import type { StatsStore } from '../../shm/types.js';
import type { ActiveHealth, CheckTarget, HealthCheckEvents, HealthChecker } from '../types.js';
import { HttpProbe } from './http.js';
import { TcpProbe } from './tcp.js';
import { TIMED_OUT, type CheckOutcome, type Probe, type ProbeRun } from './types.js';
import { isUp, Verdict } from './verdict.js';

export interface HealthCheckerDeps {
  readonly stats: StatsStore;
  readonly log: Logger;
  readonly events: HealthCheckEvents;
  /** Uniform in [0, 1): the jitter. Default Math.random. */
  readonly random?: () => number;
}

/** Envoy's names, under `cluster.<c>.health_check.`. */
interface CheckStats {
  readonly attempt: Counter;
  readonly success: Counter;
  readonly failure: Counter;
  readonly networkFailure: Counter;
  readonly degraded: Counter;
  /** Hosts healthy or degraded by their active checks. */
  readonly healthy: Gauge;
}

/** @throws RangeError when `cluster` has no `healthCheck` (the caller checks before creating one). */
export function createHealthChecker(cluster: ClusterConfig, deps: HealthCheckerDeps): HealthChecker {
  const hc = cluster.healthCheck;
  if (hc === null) throw new RangeError(`cluster ${cluster.name} has no healthCheck`);
  const tls = cluster.tls === undefined ? null : upstreamTlsSnapshot(cluster.tls);
  let probe: Probe;
  if (hc.http !== null) probe = new HttpProbe(hc.http, hc.http.host ?? cluster.name, tls);
  else if (hc.tcp !== null) probe = new TcpProbe(hc.tcp, tls);
  else throw new RangeError(`cluster ${cluster.name}: healthCheck without http or tcp`);
  const p = `cluster.${cluster.name}.health_check.`;
  const stats: CheckStats = {
    attempt: deps.stats.counter(`${p}attempt`),
    success: deps.stats.counter(`${p}success`),
    failure: deps.stats.counter(`${p}failure`),
    networkFailure: deps.stats.counter(`${p}network_failure`),
    degraded: deps.stats.counter(`${p}degraded`),
    healthy: deps.stats.gauge(`${p}healthy`, 'max'), // two epochs overlapping in a reload check the same hosts
  };
  return new ActiveChecker(cluster.name, hc, probe, stats, deps);
}

class ActiveChecker implements HealthChecker {
  private readonly hosts = new Map<string, HostCheck>();
  private readonly waits = new Set<FirstRoundWait>();
  private readonly random: () => number;
  private stopped = false;

  constructor(
    private readonly cluster: string,
    readonly config: HealthCheckConfig,
    readonly probe: Probe,
    readonly stats: CheckStats,
    private readonly deps: HealthCheckerDeps,
  ) {
    this.random = deps.random ?? Math.random;
  }

  setTargets(targets: readonly CheckTarget[], initial?: ReadonlyMap<string, ActiveHealth>): void {
    if (this.stopped) return;
    const listed = new Set(targets.map((t) => t.key));
    for (const [key, host] of this.hosts) {
      if (listed.has(key)) continue;
      host.stop();
      this.hosts.delete(key);
    }
    for (const target of targets) {
      if (this.hosts.has(target.key)) continue;
      const host = new HostCheck(target, initial?.get(target.key) ?? 'unknown', this);
      this.hosts.set(target.key, host);
      host.schedule(this.random() * this.config.jitterMs);
    }
    this.countHealthy();
    this.settleIfDecided();
  }

  firstRound(timeoutMs: number): Promise<void> {
    if (this.stopped || this.decided()) return Promise.resolve();
    return new Promise((resolve) => this.waits.add(new FirstRoundWait(resolve, timeoutMs, this.waits)));
  }

  stop(): void {
    this.stopped = true;
    for (const host of this.hosts.values()) host.stop();
    this.hosts.clear();
    this.stats.healthy.set(0);
    for (const w of this.waits) w.settle();
  }

  /** One check of `host` ended with `outcome` (a timeout included). */
  completed(host: HostCheck, outcome: CheckOutcome): void {
    const s = this.stats;
    if (outcome.pass) {
      s.success.inc();
      if (outcome.degraded) s.degraded.inc();
    } else {
      s.failure.inc();
      if (outcome.network) s.networkFailure.inc();
    }
    const before = host.verdict.health;
    host.schedule(this.config.intervalMs + this.random() * this.config.jitterMs);
    if (!host.verdict.record(outcome, this.config)) return;
    const health = host.verdict.health;
    this.deps.log.info('health check verdict changed', { cluster: this.cluster, host: host.target.key, from: before, health, reason: outcome.reason });
    this.countHealthy();
    this.settleIfDecided();
    this.deps.events.onHealth(host.target.key, health);
  }

  private countHealthy(): void {
    let n = 0;
    for (const host of this.hosts.values()) if (isUp(host.verdict.health)) n++;
    this.stats.healthy.set(n);
  }

  private decided(): boolean {
    for (const host of this.hosts.values()) if (host.verdict.health === 'unknown') return false;
    return true;
  }

  private settleIfDecided(): void {
    if (this.waits.size === 0 || !this.decided()) return;
    for (const w of this.waits) w.settle();
  }
}

/** One host: its verdict and its one timer (the next check, or the deadline of the check in flight). */
class HostCheck {
  readonly verdict: Verdict;
  private timer: NodeJS.Timeout | null = null;
  private run: ProbeRun | null = null;
  private stopped = false;

  constructor(
    readonly target: CheckTarget,
    initial: ActiveHealth,
    private readonly checker: ActiveChecker,
  ) {
    this.verdict = new Verdict(initial);
  }

  schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(this.onTimer, ms);
    this.timer.unref();
  }

  /** No more checks; one in flight is closed and reports nothing. */
  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.run?.cancel();
    this.run = null;
  }

  private readonly onTimer = (): void => {
    this.timer = null;
    const run = this.run;
    if (run === null) {
      this.checker.stats.attempt.inc();
      this.run = this.checker.probe.start(this.target, this.onDone);
      this.schedule(this.checker.config.timeoutMs);
      return;
    }
    run.cancel();
    this.run = null;
    this.checker.completed(this, TIMED_OUT);
  };

  private readonly onDone = (outcome: CheckOutcome): void => {
    if (this.stopped) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.run = null;
    this.checker.completed(this, outcome);
  };
}

/** A `firstRound()` caller: settled by the checker once every host is decided, or by its own timer. */
class FirstRoundWait {
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly resolve: () => void,
    timeoutMs: number,
    private readonly set: Set<FirstRoundWait>,
  ) {
    this.timer = setTimeout(this.settle, timeoutMs);
    this.timer.unref();
  }

  readonly settle = (): void => {
    clearTimeout(this.timer);
    this.set.delete(this);
    this.resolve();
  };
}
