/**
 * Losing the active epoch and getting one back. Two ways to lose it: its process exits when
 * nobody asked it to (respawned with backoff, respawn.ts; the sockets stay open and clients
 * wait in the backlog), or one of its worker threads dies and it serves on with the others
 * (replaced like a reload, then it drains: src/epoch/process/worker-crash.ts).
 *
 * This class keeps the decisions (is this a loss, may a replacement start now); the
 * supervisor does the bringing up, one at a time with reloads.
 */
import type { Logger } from '../../log.js';
import type { Epoch } from './epoch.js';
import type { EpochTable, SupervisorStats } from './epoch-table.js';
import { RespawnBackoff } from './respawn.js';

export interface RecoveryDeps {
  epochs: EpochTable;
  stats: Pick<SupervisorStats, 'respawns' | 'unexpectedExits' | 'workerCrashes'>;
  log: Logger;
  /** The supervisor is stopping: nothing is replaced. */
  stopping(): boolean;
  active(): Epoch | null;
  /** The active epoch died: the supervisor forgets it. */
  dropActive(): void;
  /** A reload is running; it schedules a respawn itself when it ends with nothing active. */
  reloading(): boolean;
  /** Runs `fn` after every reload, respawn and drain queued before it (the supervisor's `#exclusive`). */
  exclusive(fn: () => Promise<void>): void;
  /** Brings up an epoch on the current config and makes it active; a failure is counted and logged by it, and settles. */
  bringUpCurrent(): Promise<unknown>;
}

export class EpochRecovery {
  readonly #deps: RecoveryDeps;
  readonly #respawn = new RespawnBackoff();

  constructor(deps: RecoveryDeps) {
    this.#deps = deps;
  }

  /**
   * `epoch`'s process is gone and the supervisor has done its bookkeeping. An exit that was
   * asked for (not the active one, a leaving one, or the supervisor stopping) is only logged;
   * the active one dying is a loss, and a respawn is scheduled.
   */
  exited(epoch: Epoch): void {
    const d = this.#deps;
    const how = epoch.exit?.signal ?? `code ${epoch.exit?.code}`;
    if (epoch !== d.active() || epoch.exiting || d.stopping()) {
      d.log.info(`epoch ${epoch.number} exited`, { epochPid: epoch.pid, how, uptimeMs: epoch.uptimeMs() });
      return;
    }
    d.dropActive();
    d.stats.unexpectedExits.inc();
    this.#respawn.died(epoch.uptimeMs());
    d.log.error(`active epoch ${epoch.number} died; respawning (the sockets stay open, clients wait)`, { epochPid: epoch.pid, how });
    this.scheduleRespawn();
  }

  /**
   * Schedules a respawn on the current config, after the backoff, unless something is active,
   * a reload is running (it calls this again when it ends), or a `proxyctl drain` parked the
   * host (a reload brings it back). The check is made again when its turn comes.
   */
  scheduleRespawn(): void {
    const d = this.#deps;
    if (d.stopping() || d.active() !== null || d.reloading() || this.#hostDrained()) return;
    this.#respawn.schedule(() => {
      d.exclusive(async () => {
        if (d.stopping() || d.active() !== null || this.#hostDrained()) return;
        d.stats.respawns.inc();
        await d.bringUpCurrent();
      });
    });
  }

  /**
   * A worker of `epoch` died and the epoch serves on with the others. The active one is
   * replaced like a respawn, but gracefully: a new epoch on the current config, then the
   * crashed one drains with the rest. A reload that gets there first replaces it too, so the
   * check is made again when its turn comes. False: not the active epoch, nothing is done.
   */
  replaceCrashed(epoch: Epoch, worker: number, reason: string): boolean {
    const d = this.#deps;
    if (d.stopping() || epoch !== d.active()) return false;
    d.stats.workerCrashes.inc();
    d.log.error(`epoch ${epoch.number} lost worker ${worker}; bringing up a replacement, then it drains`, { epochPid: epoch.pid, reason });
    d.exclusive(async () => {
      if (d.stopping() || epoch !== d.active()) return;
      await d.bringUpCurrent();
    });
    return true;
  }

  /** The supervisor is shutting down: a scheduled respawn never runs. */
  cancel(): void {
    this.#respawn.cancel();
  }

  #hostDrained(): boolean {
    return this.#deps.epochs.live().some((e) => e.hostDrained);
  }
}
