/**
 * The epoch process: one generation of the proxy. Its main thread boots (hello, config,
 * sockets, workers, admin, ready), answers the supervisor's RPC and owns the drain; its worker
 * threads own connections end to end. This file holds the contracts between those pieces:
 * the command line, what each worker is started with, and the messages between the main
 * thread and a worker (discriminated on `type`, like the RPC vocabulary).
 */
import type { ProxyConfig } from '../../config/types.js';
import type { DrainRequest } from '../../proxy/types.js';
import type { ClusterMembership, OutlierKind } from '../../clusters/types.js';
import type { LogLevel } from '../../log.js';
import type { ConnectionLimitsInit } from '../../proxy/limits/types.js';

/** The command line the supervisor spawns an epoch with (see bin/epoch.js). */
export interface EpochArgs {
  /** The supervisor's hot-restart RPC socket. */
  readonly socket: string;
  /** The stats region file. */
  readonly stats: string;
  readonly epoch: number;
  readonly baseId: number;
  /**
   * `--standby`: boot as the warm standby. Load the code, start the workers, map the stats
   * region, say standbyReady, then wait for `activate` before asking for a config.
   */
  readonly standby: boolean;
  /** `--workers N`: threads to start before the config is known (it may then add or end some). */
  readonly workersHint: number;
  /** `--log-level`: where the epoch and its workers start (admin `/logging` changes it). */
  readonly logLevel: LogLevel;
}

/** One listening socket given to a worker: a received fd, owned by that worker once posted. */
export interface WorkerSocket {
  readonly listener: string;
  readonly slot: number;
  readonly fd: number;
}

/**
 * `workerData` of a worker thread. A worker starts with no config: it loads its code and maps
 * the stats region (`loaded`), then waits for `configure`. So a standby epoch's threads are
 * warm before any reload, and a cold epoch starts them while it fetches and parses its config.
 */
export interface WorkerInit {
  readonly epoch: number;
  /** 0-based index; also what the worker's log lines are named after. */
  readonly index: number;
  readonly statsPath: string;
  /** The epoch's `%CONNECTION_ID%` counter, shared by its workers (proxy/access-log/connection-id.ts). */
  readonly connectionIds: SharedArrayBuffer;
  /** The epoch's log level when the thread starts; `setLogLevel` changes it. */
  readonly logLevel: LogLevel;
}

// ---- main thread → worker ------------------------------------------------------------------

/** Build the data plane for `config` and a (not yet listening) server per socket; answered with `prepared`. */
export interface ConfigureCommand {
  type: 'configure';
  /** The config the main thread parsed (structured-cloned; plain data). */
  config: ProxyConfig;
  sockets: readonly WorkerSocket[];
  /** Each cluster's membership as the main thread's cluster manager has it now. */
  memberships: readonly ClusterMembership[];
  /** The epoch's connection caps and shared counts (connection-budget.ts); null: no caps. */
  limits: ConnectionLimitsInit | null;
}

/** A cluster's new membership (RCU): applied between events; one older than the worker has is ignored. */
export interface MembershipCommand {
  type: 'membership';
  membership: ClusterMembership;
}

/** Start accepting: listen on every assigned fd and add it to the plane. Sent after the supervisor acknowledged ready. */
export interface ListenCommand {
  type: 'listen';
}

/** Stop accepting and drain (`DataPlane.startDrain`); the worker reports `idle` once it has no connection left. */
export interface DrainCommand {
  type: 'drain';
  request: DrainRequest;
}

/** Stop accepting and hurry (`DataPlane.hurry`); reports `idle` like `drain`. */
export interface HurryCommand {
  type: 'hurry';
  graceMs: number;
}

/** Destroy every connection now (counted as forced); answered with `closed`. */
export interface CloseAllCommand {
  type: 'closeAll';
  id: number;
  reason: string;
}

/** How many connections are open; answered with `count`. */
export interface CountCommand {
  type: 'count';
  id: number;
}

/** Shut the plane down and end the thread. */
export interface ShutdownCommand {
  type: 'shutdown';
}

/** SIGUSR1: flush, close and reopen every access log file; answered with `reopened`. */
export interface ReopenLogsCommand {
  type: 'reopenLogs';
  id: number;
}

/** Admin `/logging`: log at `level` from now on. Not answered: commands are taken in order. */
export interface SetLogLevelCommand {
  type: 'setLogLevel';
  level: LogLevel;
}

/** A standby's worker: run warm-up traffic through a throwaway plane (warm-up.ts); answered with `warmed`. */
export interface WarmUpCommand {
  type: 'warmUp';
}

/** The `crash-worker` test fault (test-fault.ts): throw an uncaught error, as a bug would. */
export interface TestCrashCommand {
  type: 'testCrash';
}

export type WorkerCommand = TestCrashCommand | WarmUpCommand | ConfigureCommand | MembershipCommand | ListenCommand | DrainCommand | HurryCommand | CloseAllCommand | CountCommand | ReopenLogsCommand | SetLogLevelCommand | ShutdownCommand;

// ---- worker → main thread ------------------------------------------------------------------

/** The thread's code is loaded and the stats region mapped; it waits for `configure`. */
export interface LoadedEvent {
  type: 'loaded';
}

/** The plane is configured and a (not yet listening) server exists per assigned fd. */
export interface PreparedEvent {
  type: 'prepared';
}

/** Loading or preparing failed (stats region, config snapshot): the epoch cannot start. */
export interface PrepareFailedEvent {
  type: 'prepareFailed';
  code: string | null;
  message: string;
}

/** Every assigned fd is listening and accepting. */
export interface ListeningEvent {
  type: 'listening';
}

/** An assigned fd could not be listened on: the epoch exits and the supervisor starts another. */
export interface ListenFailedEvent {
  type: 'listenFailed';
  listener: string;
  slot: number;
  message: string;
}

/** After `drain` or `hurry`: no connection is left (final: the worker no longer accepts). */
export interface IdleEvent {
  type: 'idle';
}

export interface CountEvent {
  type: 'count';
  id: number;
  connections: number;
}

export interface ClosedEvent {
  type: 'closed';
  id: number;
  count: number;
}

/** After `reopenLogs`: how many access log files the worker reopened. */
export interface ReopenedEvent {
  type: 'reopened';
  id: number;
  files: number;
}

/** The warm-up is over: all sent, stopped by a reload, or failed or out of time (the worker is merely colder). */
export interface WarmedEvent {
  type: 'warmed';
  ms: number;
  outcome: 'done' | 'stopped' | 'failed';
}

/** A host's consecutive failures reached its cluster's outlier threshold (posted by the worker whose update crossed it). */
export interface OutlierEvent {
  type: 'outlier';
  cluster: string;
  host: string;
  kind: OutlierKind;
}

export type WorkerEvent = OutlierEvent | WarmedEvent | LoadedEvent | PreparedEvent | PrepareFailedEvent | ListeningEvent | ListenFailedEvent | IdleEvent | CountEvent | ClosedEvent | ReopenedEvent;
