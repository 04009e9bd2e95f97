/**
 * Where the next epoch's process comes from: a fresh spawn from the code installed on disk,
 * or the warm standby taken by a reload. The supervisor decides when (and which epoch is
 * active); this file knows how: numbering, CPU priority, the code fingerprint, and turning a
 * standby into the epoch for a config.
 */
import { getPriority } from 'node:os';
import { dirname } from 'node:path';
import type { ClusterStateHandoff } from '../../clusters/types.js';
import { isProxyctlError, type ProxyctlError } from '../../errors.js';
import type { LineSink, Logger } from '../../log.js';
import type { Gauge } from '../../shm/handles.js';
import type { HostIntent } from '../../uds-rpc/index.js';
import type { SocketKeeper } from '../socket-keeper.js';
import { spawnEpoch, step, type ReadyDeadlines, type Timeline } from './bring-up.js';
import { CodeWatch } from './code-fingerprint.js';
import type { ConfigVersion } from './config-version.js';
import type { Epoch } from './epoch.js';
import type { EpochTable } from './epoch-table.js';
import { STANDBY_NICE_INCREMENT, canRestorePriority, setProcessPriority } from './priority.js';
import { configFor, handOver } from './rpc-handlers.js';

export interface LauncherOptions {
  /** bin/epoch.js of the installed package: each epoch runs the code on disk when it is spawned. */
  epochEntry: string;
  socket: string;
  stats: string;
  baseId: number;
  /** `start --workers`, or null for the config's `workers`. */
  workersOverride: number | null;
  deadlines: ReadyDeadlines;
  epochs: EpochTable;
  keeper: SocketKeeper;
  /** supervisor.live_epochs, set whenever an epoch joins the table. */
  liveEpochs: Gauge;
  /** Called synchronously when an epoch's process is gone. */
  onExit: (epoch: Epoch) => void;
  /** What the serving epoch hands to an epoch that will run `next` (cluster-handoff.ts). */
  servingHandoff: (next: ConfigVersion) => Promise<ClusterStateHandoff | null>;
  /** The operator's intent for the host (admin /healthcheck/fail), as it stands at the take. */
  hostIntent: () => HostIntent;
  log: Logger;
  logSink: LineSink;
}

export class EpochLauncher {
  /** The installed package, watched: bin/epoch.js → its package root. */
  readonly #code: CodeWatch;
  /** Standbys start niced only if a reload can give them their priority back (priority.ts). */
  readonly #standbyNice = canRestorePriority() ? STANDBY_NICE_INCREMENT : 0;

  constructor(private readonly opts: LauncherOptions) {
    this.#code = new CodeWatch(dirname(dirname(opts.epochEntry)));
  }

  /** codeFingerprint() of the installed package now (see CodeWatch). */
  fingerprint(): string {
    return this.#code.current();
  }

  workersFor(config: ConfigVersion): number {
    return this.opts.workersOverride ?? config.loaded.config.workers;
  }

  /** Spawns an epoch (a standby, or one for `config` now) into the table. */
  spawn(config: ConfigVersion, fault: string | null, standby: boolean): Epoch {
    const { epochs, log } = this.opts;
    const epoch = spawnEpoch(
      { entry: this.opts.epochEntry, socket: this.opts.socket, stats: this.opts.stats, baseId: this.opts.baseId, log, logSink: this.opts.logSink },
      { number: epochs.allocateNumber(), config, fault, onExit: this.opts.onExit, workers: this.workersFor(config), standby, niceIncrement: standby ? this.#standbyNice : 0, fingerprint: this.fingerprint() },
    );
    epochs.add(epoch);
    this.opts.liveEpochs.set(epochs.live().length);
    log.info(standby ? `standby epoch ${epoch.number} spawned` : `epoch ${epoch.number} spawned`, { pid: epoch.pid, config: standby ? undefined : config.path, hash: standby ? undefined : config.loaded.hash });
    return epoch;
  }

  /**
   * Turns the standby into the epoch for `config`: normal CPU priority, wait until it is warm
   * if it is still loading, then `activate` with the config and the sockets. Null if it fails
   * on the way (it is killed): the reload then spawns a fresh epoch, so a bad standby never
   * fails a reload.
   */
  async takeStandby(epoch: Epoch, config: ConfigVersion, timeline: Timeline, refusal: () => ProxyctlError | null): Promise<Epoch | null> {
    const wasWarm = epoch.warm.done;
    epoch.config = config;
    timeline.add('standby_taken', `epoch ${epoch.number} pid ${epoch.pid}${wasWarm ? '' : ' (still loading)'}`);
    if (this.#standbyNice > 0) setProcessPriority(epoch.pid, getPriority()); // the supervisor's own
    try {
      if (!wasWarm) await step(epoch, 'warm', epoch.warm.promise, Date.now(), this.opts.deadlines.readyMs, refusal);
      // Asked at the take, not at the spawn: the standby starts from the state of now.
      const clusterState = await this.opts.servingHandoff(config);
      await epoch.activate(configFor(epoch, this.opts.workersOverride, clusterState, this.opts.hostIntent()), handOver(this.opts.keeper, epoch));
      return epoch;
    } catch (err: unknown) {
      this.opts.log.warn(`standby epoch ${epoch.number} failed when taken; spawning a fresh epoch`, { pid: epoch.pid, error: err });
      timeline.add('standby_failed', isProxyctlError(err) ? err.code : String(err));
      epoch.kill('SIGKILL');
      await epoch.exited.promise;
      return null;
    }
  }

  close(): void {
    this.#code.close();
  }
}
