/**
 * The decision side of passive outlier detection, one per cluster, on the epoch's main thread.
 * Workers count each host's outcomes in its shared slots (proxy/upstream/outlier-record.ts) and
 * post `report` when a run of failures reaches its threshold; success rates are read from the
 * same slots once per interval. This class decides who is ejected, for how long, and when
 * they come back; `onChange` tells the cluster manager so it can republish the membership.
 *
 * Rules, after Envoy's:
 * - Duration: baseEjectionTimeMs × the host's ejection count (counted with this ejection),
 *   at most maxEjectionTimeMs. The count stops growing once it reaches the maximum, so a
 *   host that was ejected often does not need ever more intervals to earn its way back.
 * - Decay: each interval (tick) that a host spends not ejected lowers its count by one. The
 *   tick that lifts an ejection does not.
 * - Lifting: at the first tick at or after `ejectedUntil`, so an ejection lasts up to one
 *   interval longer than its duration.
 * - Cap: at most floor(hosts × maxEjectionPercent / 100) hosts of the cluster are ejected at
 *   once, but never fewer than 1 may be: with 3 hosts at 10%, one host can still be ejected.
 *   An ejection the cap refuses counts `ejections_overflow`. Only the hosts of the current
 *   membership count, so removing a host (ejected or not) changes the cap at once.
 */
import type { OutlierDetectionConfig } from '../../config/types-cluster.js';
import type { Logger } from '../../log.js';
import type { Counter, Gauge } from '../../shm/handles.js';
import type { StatsStore } from '../../shm/types.js';
import { HostSlot, type OutlierKind, type OutlierState } from '../types.js';
import { isJudged, successRateThreshold, type RateSample } from './success-rate.js';

export type EjectionReason = NonNullable<OutlierState['lastReason']>;

export interface OutlierDetectorDeps {
  readonly stats: StatsStore;
  readonly cluster: string;
  readonly log: Logger;
  /** Wall-clock ms; injectable so tests are deterministic. Default Date.now. */
  readonly now?: () => number;
  /** A host was ejected or its ejection was lifted (not called by `setHosts`, nor for decay). */
  readonly onChange: (key: string, state: OutlierState) => void;
}

interface HostRecord {
  counters: Int32Array;
  ejected: boolean;
  ejectedUntil: number;
  ejections: number;
  lastReason: EjectionReason | null;
}

/** A host this detector has not judged. */
const NOT_EJECTED: OutlierState = Object.freeze({ ejected: false, ejectedUntil: 0, ejections: 0, lastReason: null });

export class OutlierDetector {
  readonly #config: OutlierDetectionConfig;
  readonly #cluster: string;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #onChange: OutlierDetectorDeps['onChange'];
  readonly #hosts = new Map<string, HostRecord>();
  #ejectedCount = 0;
  #timer: NodeJS.Timeout | null = null;

  readonly #active: Gauge;
  readonly #enforced: Counter;
  readonly #overflow: Counter;
  readonly #byReason: Readonly<Record<EjectionReason, Counter>>;

  constructor(config: OutlierDetectionConfig, deps: OutlierDetectorDeps) {
    this.#config = config;
    this.#cluster = deps.cluster;
    this.#log = deps.log;
    this.#now = deps.now ?? Date.now;
    this.#onChange = deps.onChange;
    const p = `cluster.${deps.cluster}.outlier_detection.`;
    this.#active = deps.stats.gauge(`${p}ejections_active`, 'max'); // the next epoch starts with the same ejections
    this.#enforced = deps.stats.counter(`${p}ejections_enforced_total`);
    this.#overflow = deps.stats.counter(`${p}ejections_overflow`);
    this.#byReason = {
      consecutive5xx: deps.stats.counter(`${p}ejections_enforced_consecutive_5xx`),
      consecutiveGatewayFailure: deps.stats.counter(`${p}ejections_enforced_consecutive_gateway_failure`),
      successRate: deps.stats.counter(`${p}ejections_enforced_success_rate`),
    };
    this.#active.set(0);
  }

  /**
   * The cluster's hosts from now on, each with its shared counters. A new host starts from
   * `initial.get(key)` (handed over by the previous epoch): its ejection stays while
   * `ejectedUntil` is in the future, and its ejection count and last reason carry over. Without
   * one it starts not ejected. Hosts no longer listed are forgotten. Calls no `onChange`: the
   * caller reads `state()` for the hosts it publishes.
   */
  setHosts(hosts: ReadonlyMap<string, Int32Array>, initial?: ReadonlyMap<string, OutlierState>): void {
    for (const key of this.#hosts.keys()) if (!hosts.has(key)) this.#hosts.delete(key);
    const now = this.#now();
    for (const [key, counters] of hosts) {
      const known = this.#hosts.get(key);
      if (known !== undefined) {
        known.counters = counters;
        continue;
      }
      const handed = initial?.get(key);
      const ejected = handed?.ejected === true && handed.ejectedUntil > now;
      this.#hosts.set(key, {
        counters,
        ejected,
        ejectedUntil: ejected ? handed.ejectedUntil : 0,
        ejections: handed?.ejections ?? 0,
        lastReason: handed?.lastReason ?? null,
      });
    }
    this.#ejectedCount = 0;
    for (const h of this.#hosts.values()) if (h.ejected) this.#ejectedCount++;
    this.#active.set(this.#ejectedCount);
  }

  /**
   * A worker saw `key`'s run of `kind` reach its threshold. Ejects the host unless it already
   * is or the cap refuses. Either way both of its consecutive counts start again from 0, so the
   * next full run is a new report.
   */
  report(key: string, kind: OutlierKind): void {
    const h = this.#hosts.get(key);
    if (h === undefined) return; // removed since the worker posted
    Atomics.store(h.counters, HostSlot.CONSECUTIVE_5XX, 0);
    Atomics.store(h.counters, HostSlot.CONSECUTIVE_GATEWAY, 0);
    if (!h.ejected) this.#eject(key, h, kind, this.#now());
  }

  /**
   * One interval's work (what `start()` runs every `intervalMs`; tests call it directly): lifts
   * ejections whose time is up, decays the ejection counts of hosts not ejected, and reads and
   * resets every host's request and success counts, judging success rates if configured.
   */
  tick(): void {
    const now = this.#now();
    for (const [key, h] of this.#hosts) {
      if (h.ejected) {
        if (now >= h.ejectedUntil) this.#lift(key, h);
      } else if (h.ejections > 0) h.ejections--;
    }
    this.#judgeSuccessRates(now);
  }

  /** Runs `tick()` every `intervalMs` on an unref'd timer (it never keeps the process alive). */
  start(): void {
    if (this.#timer !== null) return;
    this.#timer = setInterval(this.#onInterval, this.#config.intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  isEjected(key: string): boolean {
    return this.#hosts.get(key)?.ejected ?? false;
  }

  /** `key`'s state now; a host this detector does not know is not ejected. */
  state(key: string): OutlierState {
    const h = this.#hosts.get(key);
    return h === undefined ? NOT_EJECTED : snapshot(h);
  }

  /** Every current host's state (what the admin shows and a reload hands over). */
  states(): ReadonlyMap<string, OutlierState> {
    const out = new Map<string, OutlierState>();
    for (const [key, h] of this.#hosts) out.set(key, snapshot(h));
    return out;
  }

  readonly #onInterval = (): void => this.tick();

  /** The most hosts that may be ejected at once: see the cap rule above. */
  #maxEjected(): number {
    return Math.max(1, Math.floor((this.#hosts.size * this.#config.maxEjectionPercent) / 100));
  }

  #eject(key: string, h: HostRecord, reason: EjectionReason, now: number): void {
    if (this.#ejectedCount >= this.#maxEjected()) {
      this.#overflow.inc();
      return;
    }
    const { baseEjectionTimeMs: base, maxEjectionTimeMs: max } = this.#config;
    if (base * h.ejections < max) h.ejections++;
    const ms = Math.min(base * h.ejections, max);
    h.ejected = true;
    h.ejectedUntil = now + ms;
    h.lastReason = reason;
    this.#ejectedCount++;
    this.#active.set(this.#ejectedCount);
    this.#enforced.inc();
    this.#byReason[reason].inc();
    this.#log.warn('outlier ejected', { cluster: this.#cluster, host: key, reason, ms, ejections: h.ejections });
    this.#onChange(key, snapshot(h));
  }

  #lift(key: string, h: HostRecord): void {
    h.ejected = false;
    h.ejectedUntil = 0;
    this.#ejectedCount--;
    this.#active.set(this.#ejectedCount);
    this.#log.info('outlier ejection lifted', { cluster: this.#cluster, host: key, ejections: h.ejections });
    this.#onChange(key, snapshot(h));
  }

  #judgeSuccessRates(now: number): void {
    const cfg = this.#config.successRate;
    const keys: string[] = [];
    const samples: RateSample[] = [];
    for (const [key, h] of this.#hosts) {
      // Reset every interval, judged or not, so the slots always mean "since the last tick".
      const requests = Atomics.exchange(h.counters, HostSlot.REQUESTS, 0);
      const successes = Atomics.exchange(h.counters, HostSlot.SUCCESSES, 0);
      if (cfg === null || h.ejected) continue;
      keys.push(key);
      samples.push({ requests, successes });
    }
    if (cfg === null) return;
    const threshold = successRateThreshold(samples, cfg);
    if (threshold < 0) return;
    for (let i = 0; i < samples.length; i++) {
      const s = samples[i]!;
      if (!isJudged(s, cfg) || s.successes / s.requests >= threshold) continue;
      const key = keys[i]!;
      this.#eject(key, this.#hosts.get(key)!, 'successRate', now);
    }
  }
}

function snapshot(h: HostRecord): OutlierState {
  return { ejected: h.ejected, ejectedUntil: h.ejectedUntil, ejections: h.ejections, lastReason: h.lastReason };
}
