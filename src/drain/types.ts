/**
 * Draining an epoch: the supervisor says `drain`, `hurry` or `terminate` (or goes away), and
 * the epoch's main thread turns that into deadlines and into commands to its workers. The
 * per-protocol work (HTTP `Connection: close`, idle keep-alive closes, TCP forced closes)
 * happens in each worker's data plane (src/proxy); this area only decides when.
 */
import type { DrainStrategy } from '../config/types.js';
import type { DrainRequest } from '../proxy/types.js';

/** A drain as the supervisor asks for it (the `drain` RPC without its type). */
export interface DrainParams {
  readonly strategy: DrainStrategy;
  /** HTTP connections get a moment within this window to close; idle ones close at its end; TCP is forced at its end. */
  readonly drainTimeMs: number;
  /** Exit mode only: whatever is still open this long after the drain started is closed by force. */
  readonly parentShutdownTimeMs: number;
  /** Leave once no connection is left (a reload or a stop); otherwise stay up, out of rotation. */
  readonly exit: boolean;
}

/** What the drain manager drives: the epoch's workers, as one (src/epoch/process/worker-pool.ts). */
export interface DrainTarget {
  /** Every worker stops accepting and drains (`DataPlane.startDrain`); a repeat only brings deadlines forward. */
  drain(req: DrainRequest): void;
  /** Every worker stops accepting and hurries (`DataPlane.hurry`). */
  hurry(graceMs: number): void;
  /** Destroys every connection now (counted as forced); resolves with how many there were. */
  closeAll(reason: string): Promise<number>;
  /** Resolves once every worker, told to drain or hurry, has no connection left. */
  whenIdle(): Promise<void>;
}

/** What the drain manager needs from the rest of the epoch. */
export interface DrainHooks {
  /** The first drain, hurry or terminate began: the epoch stops being the active one. Called at most once. */
  drainStarted(): void;
  /** Exit mode began: stop serving the admin endpoint. */
  closeAdmin(): void;
  /** The epoch is done: shut down and exit the process with `code`. Called at most once. */
  exit(code: number, reason: string): void;
}

/** The epoch's drain state machine: serving → draining (→ exiting). Nothing goes back. */
export interface DrainController {
  /** True once any drain, hurry or terminate began (admin `/ready` answers 503). */
  readonly draining: boolean;
  /** True once the epoch is on its way out (exit mode, hurry or terminate). */
  readonly exitMode: boolean;
  /**
   * Starts a drain, or merges one into the drain in progress: deadlines only move sooner,
   * and `exit: true` switches a drain that stays up into one that leaves. Idempotent.
   */
  drain(params: DrainParams): void;
  /** Immediate drain now, forced closes after `graceMs`, then exit. Works with or without a drain. */
  hurry(graceMs: number): void;
  /** Closes every connection now and exits. */
  terminate(): void;
}
