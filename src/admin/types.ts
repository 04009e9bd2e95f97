/**
 * The admin endpoint: a small HTTP server on the epoch's main thread, with Envoy's paths
 * (`/ready`, `/stats`, `/server_info`, `/clusters`). It is not hot: it never runs on a worker,
 * and it only reads what the epoch exposes through `AdminFacts`.
 */
import type { ClusterViewSource } from '../clusters/types.js';
import type { LogLevel } from '../log.js';
import type { StatsRegion } from '../shm/index.js';

/** What the admin endpoint reports about its epoch. */
export interface AdminFacts {
  readonly epoch: number;
  readonly workers: number;
  /** The config's content hash (`configHash`). */
  readonly configHash: string;
  /** Wall-clock ms when the epoch process started. */
  readonly startedAt: number;
  /** The stats region, as this process mapped it. */
  readonly stats: StatsRegion;
  /** The epoch's clusters as they stand now (`/clusters`). */
  readonly clusters: ClusterViewSource;
  /** True once a drain of any kind began: `/ready` answers 503 from then on. */
  draining(): boolean;
  /** The epoch's log level (`/logging`). */
  readonly logging: LogLevelControl;
}

/** A log level that can be read and changed while the process runs. */
export interface LogLevelControl {
  readonly level: LogLevel;
  /** Logs at `level` from now on (on every thread it covers). */
  set(level: LogLevel): void;
}

/** The endpoint's lifecycle, as the epoch drives it. */
export interface AdminEndpoint {
  /** Serves on an inherited listening socket; Node owns the fd from then on. */
  listen(fd: number): Promise<void>;
  /** Stops accepting and closes idle connections; answers in flight finish. Idempotent. */
  close(): void;
}
