import type { Counter, Gauge, Histogram } from './handles.js';
import type { GaugeCombineName } from './layout.js';

/**
 * What code that counts things depends on. `StatsRegion` implements it over shared memory;
 * anything else that wants to count (a unit test, a future in-process scope) can too.
 */
export interface StatsStore {
  /**
   * The counter called `name`, allocated on first use by any process or thread. Every caller
   * gets the same slot. Throws PROXYCTL_ERR_STAT_NAME if `name` is already another kind, and
   * PROXYCTL_ERR_SHM_FULL (after counting an overflow) when there is no room, unless the
   * region was opened with `onFull`: then the stat is kept in this process's memory instead.
   */
  counter(name: string): Counter;
  /** The gauge called `name`; this process writes only its own lane. */
  gauge(name: string, combine?: GaugeCombineName): Gauge;
  /** The histogram called `name` (record microseconds for latencies). */
  histogram(name: string): Histogram;
  /** Drops the contribution of `epoch` from every gauge (the epoch has exited). */
  clearLane(epoch: number): void;
}
