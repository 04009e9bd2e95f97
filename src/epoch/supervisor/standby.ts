/**
 * The warm standby: the next epoch, spawned ahead of time under `nice` (priority.ts), with its
 * code loaded, its worker threads started, its hello said and the stats region mapped, but no
 * config and no socket. A reload takes it, so the reload itself starts no process and loads
 * no module. A reload is still a code upgrade: a standby spawned from code that is no longer
 * the code installed (codeFingerprint), or a `reload --cold`, is discarded and a fresh epoch
 * spawned instead.
 *
 * A standby that dies is replaced with backoff; it never blocks a reload, which then goes
 * cold. This class keeps the policy (when to spawn, when a standby may be taken); the
 * supervisor does the spawning and the taking.
 */
import type { Logger } from '../../log.js';
import type { StandbySummary } from '../../uds-rpc/index.js';
import type { Epoch } from './epoch.js';

export interface StandbyDeps {
  /** Spawns a standby epoch (numbered, in the epoch table). */
  spawn(): Epoch;
  /** codeFingerprint() of the installed package, now. */
  fingerprint(): string;
  /** The current config asks for a standby. */
  wanted(): boolean;
  log: Logger;
}

/** What a reload gets: the standby, or null and why not (for the timeline; null: there was none). */
export type Take = { epoch: Epoch; discarded: null } | { epoch: null; discarded: string | null };

const FIRST_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 10_000;

export class StandbySlot {
  #epoch: Epoch | null = null;
  #timer: NodeJS.Timeout | null = null;
  #failures = 0;
  #closed = false;

  constructor(private readonly deps: StandbyDeps) {}

  /** The standby epoch, if one lives. */
  get epoch(): Epoch | null {
    return this.#epoch;
  }

  /** Spawns a standby after `delayMs`, unless one lives or is on its way, or none is wanted. */
  replenish(delayMs = 0): void {
    if (this.#closed || this.#epoch !== null || this.#timer !== null || !this.deps.wanted()) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      if (this.#closed || this.#epoch !== null || !this.deps.wanted()) return;
      this.#epoch = this.deps.spawn();
    }, delayMs);
    this.#timer.unref();
  }

  /**
   * Hands the standby to a reload, or discards it (killed; the caller awaits its exit) when
   * the reload must start fresh: `reload --cold`, a test fault for the new epoch, or code
   * that changed since the standby was spawned.
   */
  take(cold: boolean, fault: string | null): Take {
    const epoch = this.#epoch;
    if (epoch === null) return { epoch: null, discarded: null };
    this.#epoch = null;
    const why = cold ? 'reload --cold' : fault !== null ? 'a test fault is asked for' : epoch.fingerprint !== this.deps.fingerprint() ? 'the installed code changed' : null;
    if (why === null) {
      this.#failures = 0;
      return { epoch, discarded: null };
    }
    this.deps.log.info(`standby epoch ${epoch.number} discarded: ${why}`, { epochPid: epoch.pid });
    epoch.kill('SIGKILL');
    return { epoch: null, discarded: why };
  }

  /** Called when any epoch exits: if it was the standby, the next one comes after a backoff. */
  onExit(epoch: Epoch): void {
    if (epoch !== this.#epoch) return;
    this.#epoch = null;
    if (this.#closed) return;
    const delay = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** this.#failures);
    this.#failures++;
    this.deps.log.warn(`standby epoch ${epoch.number} died; another in ${delay} ms`, { epochPid: epoch.pid, how: epoch.exit?.signal ?? `code ${epoch.exit?.code}` });
    this.replenish(delay);
  }

  summary(now = Date.now()): StandbySummary | null {
    const e = this.#epoch;
    if (e === null) return null;
    return { epoch: e.number, pid: e.pid, uptimeMs: e.uptimeMs(now), state: e.warm.done ? 'warm' : 'loading' };
  }

  /** No more standbys (stop): the one that lives is killed. */
  close(): void {
    this.#closed = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#epoch?.kill('SIGKILL');
  }
}
