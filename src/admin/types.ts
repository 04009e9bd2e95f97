/**
 * The admin endpoint: a small HTTP server on the epoch's main thread, with Envoy's paths. It
 * is not hot: it never runs on a worker, it reads what the epoch exposes through `AdminFacts`,
 * and what outlives the epoch (the health-check flag, drain, stop) it asks of the supervisor
 * through `AdminHost`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ClusterViewSource } from '../clusters/types.js';
import type { ProxyConfig } from '../config/types.js';
import type { StatsRegion } from '../shm/index.js';

/** What the admin endpoint reports about its epoch. */
export interface AdminFacts {
  readonly epoch: number;
  readonly workers: number;
  /** The config's content hash (`configHash`). */
  readonly configHash: string;
  /** The running config, as parsed (`/config_dump`, `/listeners`). */
  readonly config: ProxyConfig;
  /** Wall-clock ms when the epoch process started. */
  readonly startedAt: number;
  /** The stats region, as this process mapped it. */
  readonly stats: StatsRegion;
  /** The epoch's clusters as they stand now (`/clusters`). */
  readonly clusters: ClusterViewSource;
  /** The host-wide requests, answered by the supervisor. */
  readonly host: AdminHost;
  /** True once a drain of any kind began: `/ready` answers 503 from then on. */
  draining(): boolean;
}

/**
 * What the admin API asks of the supervisor. Each call resolves once the supervisor has done
 * it (or, for `quit`, accepted it), and rejects with its ProxyctlError.
 */
export interface AdminHost {
  /** True while `/healthcheck/fail` is in force (it came with the config, or was set here). */
  healthFailed(): boolean;
  setHealthFailed(failed: boolean): Promise<void>;
  /** As `proxyctl drain`; `graceful` keeps the config's drain strategy, else immediate. */
  drainListeners(graceful: boolean): Promise<{ epoch: number; connections: number }>;
  /** As `proxyctl stop`: the supervisor drains every epoch and exits. Resolves with its pid. */
  quit(): Promise<number>;
}

/** One request, as a route sees it. */
export interface AdminRequest {
  readonly facts: AdminFacts;
  readonly query: URLSearchParams;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
}

/**
 * One admin path. `GET` routes also answer HEAD; `POST` routes change something and take POST
 * only. `help` is the line the index at `/` shows.
 */
export interface AdminRoute {
  readonly path: string;
  readonly method: 'GET' | 'POST';
  readonly help: string;
  handle(r: AdminRequest): void | Promise<void>;
}

/** The endpoint's lifecycle, as the epoch drives it. */
export interface AdminEndpoint {
  /** Serves on an inherited listening socket; Node owns the fd from then on. */
  listen(fd: number): Promise<void>;
  /** Stops accepting and closes idle connections; answers in flight finish. Idempotent. */
  close(): void;
}
