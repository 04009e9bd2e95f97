import type { Counter, Gauge } from '../../shm/handles.js';
import type { StatsStore } from '../../shm/types.js';
import type { EpochSummary, RpcConnection } from '../../uds-rpc/index.js';
import type { Epoch } from './epoch.js';

/** Gauge lanes are `epoch % 4` (see shm/layout.ts); two live epochs must never share one. */
const GAUGE_LANES = 4;
/** Exited epochs kept for `status`, so the operator sees what happened. */
const KEEP_EXITED = 4;

/** The supervisor's epochs, live and recently exited, in spawn order, and their numbering. */
export class EpochTable {
  readonly #epochs: Epoch[] = [];
  #next = 0;

  get all(): readonly Epoch[] {
    return this.#epochs;
  }

  /** What `status` shows of every epoch but the standby (its connections asked of each live one). */
  summaries(now: number): Promise<EpochSummary[]> {
    return Promise.all(
      this.#epochs.filter((e) => !e.standby).map(async (e) => ({
        epoch: e.number,
        pid: e.pid,
        state: e.state,
        uptimeMs: e.uptimeMs(now),
        connections: e.live ? await e.connections() : 0,
        workers: e.workers,
        ...(e.state === 'draining' && e.drainDeadlineAt !== null ? { drainLeftMs: Math.max(0, e.drainDeadlineAt - now) } : {}),
      })),
    );
  }

  /**
   * Sends `signal` to every running epoch that has said hello (one that has not has no handler
   * yet: for SIGUSR1 Node would start its inspector). Returns how many were signalled.
   */
  signalHelloed(signal: NodeJS.Signals): number {
    let n = 0;
    for (const e of this.#epochs) {
      if (!e.live || e.conn === null || e.exit !== null) continue;
      e.kill(signal);
      n++;
    }
    return n;
  }

  /** Live epochs that serve or drain: the standby is not one of them. */
  live(): Epoch[] {
    return this.#epochs.filter((e) => e.live && !e.standby);
  }

  add(epoch: Epoch): void {
    this.#epochs.push(epoch);
  }

  /** The next epoch number whose gauge lane no live epoch uses (numbers only go up; one may be skipped). */
  allocateNumber(): number {
    // The standby holds a lane too: it will write to it once a reload takes it.
    const lanes = new Set(this.#epochs.filter((e) => e.live).map((e) => e.number % GAUGE_LANES));
    let n = this.#next;
    while (lanes.has(n % GAUGE_LANES)) n++;
    this.#next = n + 1;
    return n;
  }

  /** The epoch on the other end of `conn`, if it is one of ours. */
  on(conn: RpcConnection): Epoch | undefined {
    return this.#epochs.find((e) => e.conn === conn);
  }

  /** The starting epoch `number` that has not connected yet. */
  awaitingHello(number: number): Epoch | undefined {
    return this.#epochs.find((e) => e.number === number && e.state === 'starting' && e.conn === null);
  }

  /** Forgets the oldest exited epochs beyond the few kept for `status`. */
  trimExited(): void {
    const exited = this.#epochs.filter((e) => !e.live);
    for (const old of exited.slice(0, Math.max(0, exited.length - KEEP_EXITED))) this.#epochs.splice(this.#epochs.indexOf(old), 1);
  }
}

/** What the supervisor counts about its epochs, in its own lane of the stats region. */
export interface SupervisorStats {
  reloadSuccess: Counter;
  reloadFailure: Counter;
  respawns: Counter;
  unexpectedExits: Counter;
  /** A serving epoch lost a worker thread and was replaced (src/epoch/process/worker-crash.ts). */
  workerCrashes: Counter;
  liveEpochs: Gauge;
}

export function supervisorStats(region: StatsStore): SupervisorStats {
  return {
    reloadSuccess: region.counter('supervisor.reload_success'),
    reloadFailure: region.counter('supervisor.reload_failure'),
    respawns: region.counter('supervisor.epoch_respawn'),
    unexpectedExits: region.counter('supervisor.epoch_unexpected_exit'),
    workerCrashes: region.counter('supervisor.epoch_worker_crash'),
    liveEpochs: region.gauge('supervisor.live_epochs'),
  };
}
