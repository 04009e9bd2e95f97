/**
 * What every discovery source does with an answer, apart from getting it: put the set in one
 * canonical order, tell a change from a repeat, count and log each update, and settle
 * `initialized()` on the first answer or failure. Sources (static.ts, strict-dns.ts, file.ts)
 * only fetch.
 */
import type { Logger } from '../../log.js';
import type { Counter } from '../../shm/handles.js';
import type { StatsStore } from '../../shm/types.js';
import type { DiscoveredEndpoint, DiscoveryEvents } from '../types.js';

export interface DiscoveryDeps {
  readonly stats: StatsStore;
  readonly log: Logger;
}

/** One cluster's update counters, named as Envoy names them. */
interface UpdateStats {
  readonly attempt: Counter;
  readonly success: Counter;
  readonly failure: Counter;
  /** A successful update with no hosts. */
  readonly empty: Counter;
  /** A successful update that changed nothing. */
  readonly noRebuild: Counter;
}

export class UpdateReporter {
  readonly #cluster: string;
  readonly #log: Logger;
  readonly #stats: UpdateStats;
  #events: DiscoveryEvents | null = null;
  /** The identity of the last set reported, or null before the first. */
  #lastKey: string | null = null;
  #settled = false;
  readonly #waiters: (() => void)[] = [];

  constructor(cluster: string, deps: DiscoveryDeps) {
    this.#cluster = cluster;
    this.#log = deps.log;
    const c = (n: string): Counter => deps.stats.counter(`cluster.${cluster}.${n}`);
    this.#stats = { attempt: c('update_attempt'), success: c('update_success'), failure: c('update_failure'), empty: c('update_empty'), noRebuild: c('update_no_rebuild') };
  }

  /** Where answers go from now on. */
  bind(events: DiscoveryEvents): void {
    this.#events = events;
  }

  attempt(): void {
    this.#stats.attempt.inc();
  }

  /** A good answer: reported unless it is the set reported last. */
  success(endpoints: readonly DiscoveredEndpoint[]): void {
    this.#stats.success.inc();
    if (endpoints.length === 0) this.#stats.empty.inc();
    const sorted = canonicalOrder(endpoints);
    const key = sorted.map(endpointKey).join('\n');
    if (key === this.#lastKey) {
      this.#stats.noRebuild.inc();
    } else {
      this.#lastKey = key;
      this.#log.info('endpoints changed', { cluster: this.#cluster, hosts: sorted.length });
      this.#events?.onEndpoints(Object.freeze(sorted));
    }
    this.#settle();
  }

  /** A failed refresh: the last good set stays (nothing is reported but the error). */
  failure(code: string, message: string): void {
    this.#stats.failure.inc();
    this.#log.warn('endpoint discovery failed', { cluster: this.#cluster, code, message });
    this.#events?.onError(code, message);
    this.#settle();
  }

  initialized(timeoutMs: number): Promise<void> {
    if (this.#settled) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.#waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** The source stopped: nothing more is reported, and `initialized()` waiters are released. */
  close(): void {
    this.#events = null;
    this.#settle();
  }

  /** Releases every `initialized()` waiter (the first answer came, or the source stopped). */
  #settle(): void {
    if (this.#settled) return;
    this.#settled = true;
    for (const w of this.#waiters.splice(0)) w();
  }
}

/** By host, then port, then everything else: the order never depends on how a source listed them. */
function canonicalOrder(endpoints: readonly DiscoveredEndpoint[]): DiscoveredEndpoint[] {
  return [...endpoints].sort((a, b) => compare(a.host, b.host) || a.port - b.port || compare(endpointKey(a), endpointKey(b)));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Everything that makes an endpoint what it is, with object keys sorted so `{a, b}` equals `{b, a}`. */
function endpointKey(e: DiscoveredEndpoint): string {
  return JSON.stringify([e.host, e.port, e.weight, sortedEntries(e.locality), sortedEntries(e.metadata)]);
}

function sortedEntries(o: object | null): [string, unknown][] | null {
  return o === null ? null : Object.entries(o).sort(([a], [b]) => compare(a, b));
}
