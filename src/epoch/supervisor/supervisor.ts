/**
 * The supervisor: one per base id. It owns the listening sockets (socket keeper), the stats
 * region, the epoch table and the reload queue, and it serves the hot-restart socket that
 * epochs and the CLI talk to (hot-restart-server.ts). The reload sequence is the one in DESIGN.md; every step has a
 * deadline, and a failed step kills only the epoch being started.
 *
 * Everything that changes which epoch is active (a reload, a respawn, `proxyctl drain`) runs
 * one at a time through `#exclusive`. Reload requests are coalesced (reload-queue.ts), and a
 * reload takes the warm standby when it can (standby.ts). Losing the active epoch, and getting
 * one back, is recovery.ts.
 */
import { unlinkSync } from 'node:fs';
import { ProxyctlError, isProxyctlError } from '../../errors.js';
import type { Logger, LineSink, LogLevel } from '../../log.js';
import { ensurePrivateDir, type BaseIdPaths } from '../../runtime-dir.js';
import { StatsRegion } from '../../shm/region.js';
import { DEFAULT_CAPACITY, capacityFor } from '../../shm/layout.js';
import type { DrainHostReply, ReloadReply, StatusReply } from '../../uds-rpc/index.js';
import { SocketKeeper, type AdoptableSockets } from '../socket-keeper.js';
import { adminBindables, bindablesInUse } from './bindables.js';
import { Timeline, awaitReady, makeRoom, type ReadyDeadlines } from './bring-up.js';
import { STOP_OVERSTAY_MS } from './limits.js';
import { handoffFor } from './cluster-handoff.js';
import { HostIntentKeeper } from './host-intent.js';
import { HotRestartServer } from './hot-restart-server.js';
import { readConfigVersion, type ConfigVersion } from './config-version.js';
import { Milestone } from '../milestone.js';
import type { Epoch } from './epoch.js';
import { EpochTable, supervisorStats, type SupervisorStats } from './epoch-table.js';
import { InstanceLock } from './instance-lock.js';
import type { SupervisorObserver } from './observer.js';
import { EpochLauncher } from './launcher.js';
import { ReloadQueue } from './reload-queue.js';
import { EpochRecovery } from './recovery.js';
import { StandbySlot } from './standby.js';
import { readSupervisorFault, type ReloadCheckpoint } from './test-fault.js';
import { scopeStats, sweepScopes, type ScopeStats } from './stat-scopes.js';

export interface SupervisorOptions {
  paths: BaseIdPaths;
  baseId: number;
  /** Absolute path of the config file. */
  configPath: string;
  /** `start --workers`: worker threads for every epoch instead of the config's `workers`. */
  workersOverride: number | null;
  /** `start --stats-capacity`: the stats region's entries (layout.ts capacityFor); the default capacity when absent. */
  statsCapacity?: number;
  deadlines: ReadyDeadlines;
  log: Logger;
  /** Where epoch log lines are forwarded. */
  logSink: LineSink;
  /** `start --log-level`: every epoch starts at it. */
  logLevel: LogLevel;
  /** bin/epoch.js of the installed package: each epoch runs the code on disk when it is spawned. */
  epochEntry: string;
  /** PROXYCTL_TEST_FAULT for epoch 0 only (test hook). */
  firstEpochFault: string | null;
  /** Told of ready, reloads, stop and epoch changes (systemd's sd_notify; NO_OBSERVER when nobody watches). */
  observer: SupervisorObserver;
  /** Listening sockets systemd passed (LISTEN_FDS), used instead of binding their addresses; null when none. */
  adoptable: AdoptableSockets | null;
}

export class Supervisor {
  readonly startedAt = Date.now();
  /** Resolves once `stop` has finished: every epoch gone, files removed, claim released. */
  readonly stopped = new Milestone<void>();
  readonly #opts: SupervisorOptions;
  readonly #log: Logger;
  readonly #lock: InstanceLock;
  readonly #region: StatsRegion;
  readonly #stats: SupervisorStats;
  readonly #scopeStats: ScopeStats;
  readonly #keeper: SocketKeeper;
  readonly #server: HotRestartServer;
  readonly #epochs = new EpochTable();
  #current: ConfigVersion;
  #active: Epoch | null = null;
  #chain: Promise<unknown> = Promise.resolve();
  readonly #reloads: ReloadQueue;
  #busy = 0;
  #stopping = false;
  readonly #recovery: EpochRecovery;
  readonly #standby: StandbySlot;
  readonly #launcher: EpochLauncher;
  readonly #hostIntent: HostIntentKeeper;
  /** PROXYCTL_TEST_SUPERVISOR_FAULT's hook for reloads (test-fault.ts); null: none. */
  readonly #fault: ReloadCheckpoint | null;

  private constructor(opts: SupervisorOptions, config: ConfigVersion, lock: InstanceLock, region: StatsRegion) {
    this.#opts = opts;
    this.#log = opts.log;
    this.#current = config;
    this.#lock = lock;
    this.#region = region;
    this.#stats = supervisorStats(region);
    this.#keeper = new SocketKeeper(opts.paths.adminSocket, opts.adoptable);
    this.#hostIntent = new HostIntentKeeper(opts.log);
    this.#fault = readSupervisorFault(process.env, opts.log);
    this.#scopeStats = scopeStats(region);
    this.#reloads = new ReloadQueue(
      (fn) => void this.#exclusive(fn),
      (want) => (this.#stopping ? Promise.reject(stoppingError()) : this.#observedReload(want.config, want.fault, want.cold)),
    );
    this.#launcher = new EpochLauncher({
      epochEntry: opts.epochEntry,
      socket: opts.paths.hotRestartSocket,
      stats: opts.paths.stats,
      baseId: opts.baseId,
      workersOverride: opts.workersOverride,
      deadlines: opts.deadlines,
      epochs: this.#epochs,
      keeper: this.#keeper,
      liveEpochs: this.#stats.liveEpochs,
      onExit: this.#onExit,
      servingHandoff: (next) => handoffFor(this.#active, next, this.#log),
      hostIntent: () => this.#hostIntent.intent,
      log: opts.log,
      logSink: opts.logSink,
      logLevel: opts.logLevel,
    });
    this.#recovery = new EpochRecovery({
      epochs: this.#epochs,
      stats: this.#stats,
      log: opts.log,
      stopping: () => this.#stopping,
      active: () => this.#active,
      dropActive: () => {
        this.#active = null;
      },
      reloading: () => this.#busy > 0,
      exclusive: (fn) => void this.#exclusive(fn),
      bringUpCurrent: () => this.#bringUp(this.#current, null, new Timeline(), false).catch(() => {}),
    });
    this.#standby = new StandbySlot({
      spawn: () => this.#launcher.spawn(this.#current, null, true),
      fingerprint: () => this.#launcher.fingerprint(),
      wanted: () => this.#current.loaded.config.standby && !this.#stopping,
      log: opts.log,
    });
    this.#server = new HotRestartServer(
      opts.paths.hotRestartSocket,
      {
        workersOverride: opts.workersOverride,
        keeper: this.#keeper,
        epochOn: (conn) => this.#epochs.on(conn),
        servingHandoff: (next) => handoffFor(this.#active, next, this.#log),
        reload: (path, fault, cold) => this.reload(path, fault, cold),
        status: (clusters) => this.status(clusters),
        drainHost: (graceful) => this.drainHost(graceful),
        stop: (now) => this.stop(now),
        hostIntent: () => this.#hostIntent.intent,
        setHostHealthFailed: (failed) => this.#hostIntent.setHealthFailed(failed),
        replaceCrashed: (epoch, worker, reason) => this.#recovery.replaceCrashed(epoch, worker, reason),
      },
      this.#epochs,
      opts.log,
    );
  }

  /**
   * Validates the config, claims the base id, creates the stats region, binds every listener,
   * and brings epoch 0 up. Resolves once epoch 0 is ready. On failure everything it made is
   * undone and the error is thrown: PROXYCTL_ERR_CONFIG_*, _ALREADY_RUNNING, _LISTEN,
   * _EPOCH_FAILED, _READY_TIMEOUT, _RUNTIME_DIR.
   */
  static async start(opts: SupervisorOptions): Promise<Supervisor> {
    const config = await readConfigVersion(opts.configPath);
    ensurePrivateDir(opts.paths.dir);
    const lock = InstanceLock.acquire(opts.paths.lock);
    let sup: Supervisor | null = null;
    try {
      if (lock.tookOverFrom !== null) opts.log.warn('took over from a supervisor that died', { deadPid: lock.tookOverFrom });
      const region = StatsRegion.create(opts.paths.stats, opts.statsCapacity === undefined ? DEFAULT_CAPACITY : capacityFor(opts.statsCapacity));
      sup = new Supervisor(opts, config, lock, region);
      await sup.#server.listen();
      const first = sup.#bringUp(config, opts.firstEpochFault, new Timeline(), true);
      sup.#chain = first.catch(() => {});
      await first;
      opts.observer.ready(sup.#epochs.live());
      return sup;
    } catch (err: unknown) {
      if (sup !== null) await sup.#shutdown(true);
      else lock.release();
      throw err;
    }
  }

  get active(): Epoch | null {
    return this.#active;
  }

  /**
   * Brings up a new epoch on `configPath` (null: the current file, re-read) and drains the
   * active one once the new one is ready. An invalid config is refused at once, before any
   * process is spawned.
   */
  async reload(configPath: string | null, fault: string | null = null, cold = false): Promise<ReloadReply> {
    if (this.#stopping) throw stoppingError();
    const config = await readConfigVersion(configPath ?? this.#current.path, this.#current);
    return this.#reloads.request({ config, fault, cold });
  }

  /**
   * SIGUSR1 for every epoch that runs (active, draining, standby): its workers reopen their
   * access logs. One that has not said hello is skipped: it has no log open yet, nor its
   * handler (Node would start its inspector). Returns how many epochs were told.
   */
  reopenAccessLogs(): number {
    return this.#epochs.signalHelloed('SIGUSR1');
  }

  /**
   * `proxyctl drain` (and admin /drain_listeners): the active epoch leaves rotation and stays
   * up; a reload brings the host back. `graceful` false drains with the immediate strategy.
   */
  drainHost(graceful = true): Promise<DrainHostReply> {
    if (this.#stopping) return Promise.reject(stoppingError());
    return this.#exclusive(async () => {
      const epoch = this.#active;
      if (epoch === null) throw new ProxyctlError('PROXYCTL_ERR_NOT_RUNNING', 'no epoch is active (being respawned, or already drained)');
      this.#active = null;
      epoch.hostDrained = true;
      // New connections are refused rather than left waiting in a backlog nobody accepts
      // from: a load balancer fails over at once. The admin socket stays for /ready (503).
      this.#keeper.release([adminBindables(this.#current)]);
      const connections = (await epoch.connections()) ?? 0;
      const drain = this.#current.loaded.config.drain;
      await epoch.drain({ ...drain, strategy: graceful ? drain.strategy : 'immediate', exit: false });
      this.#opts.observer.epochsChanged(this.#epochs.live());
      this.#log.info(`epoch ${epoch.number} drained: out of rotation`, { epochPid: epoch.pid, connections });
      return { type: 'drainHost', epoch: epoch.number, connections };
    });
  }

  /** `clusters`: add the serving epoch's cluster views (null when none serves or it does not answer). */
  async status(clusters = false): Promise<StatusReply> {
    const now = Date.now();
    const serving = this.#active;
    const [epochs, state] = await Promise.all([this.#epochs.summaries(now), clusters && serving !== null ? serving.clusterState() : null]);
    return {
      type: 'status',
      supervisor: { pid: process.pid, baseId: this.#opts.baseId, uptimeMs: now - this.startedAt, configPath: this.#current.path, reloading: this.#busy > 0 },
      epochs,
      standby: this.#standby.summary(now),
      ...(clusters ? { clusters: state?.views ?? null } : {}),
    };
  }

  /**
   * Stops: no more reloads, listening sockets closed (new connections are refused), every
   * epoch drained (`now`: terminated), then the socket and the stats region removed and the
   * claim on the base id released. Idempotent; resolves with `stopped`.
   */
  async stop(now: boolean): Promise<void> {
    if (this.#stopping) {
      // An impatient second request (Ctrl-C twice, `stop --now` after `stop`) skips what is left of the drain.
      if (now) for (const e of this.#epochs.live()) void e.terminate();
      return this.stopped.promise;
    }
    this.#stopping = true;
    this.#opts.observer.stopping();
    this.#log.info(now ? 'stopping now' : 'stopping: draining every epoch');
    this.#reloads.rejectQueued(stoppingError());
    this.#standby.close();
    this.#launcher.close();
    for (const e of this.#epochs.all) if (e.state === 'starting') e.kill('SIGKILL');
    await this.#chain;
    await this.#shutdown(now);
  }

  // ---- reloads and respawns --------------------------------------------------------------

  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.#chain.then(fn);
    this.#chain = result.catch(() => {});
    return result;
  }

  /** A reload as the observer sees it: started, then ended (successful or not, something serves again). */
  async #observedReload(config: ConfigVersion, fault: string | null, cold: boolean): Promise<ReloadReply> {
    this.#opts.observer.reloadStarted();
    let ok = false;
    try {
      const reply = await this.#bringUp(config, fault, new Timeline(Date.now(), this.#fault), cold);
      ok = true;
      return reply;
    } finally {
      this.#opts.observer.reloadEnded(ok);
    }
  }

  /**
   * Makes the next epoch active on `config` once it is ready: the warm standby if there is a
   * usable one (`cold` forbids it), else a freshly spawned epoch. The old one then drains.
   */
  async #bringUp(config: ConfigVersion, fault: string | null, timeline: Timeline, cold: boolean): Promise<ReloadReply> {
    this.#busy++;
    try {
      const taken = this.#standby.take(cold, fault);
      if (taken.discarded !== null) timeline.add('standby_discarded', taken.discarded);
      await makeRoom(() => this.#epochs.live(), this.#active, timeline, this.#log);
      const listeners = config.loaded.config.listeners;
      await this.#keeper.ensure(listeners, this.#launcher.workersFor(config));
      await this.#keeper.ensure(adminBindables(config), 1);
      const refusal = (e: Epoch) => () => this.#server.refusalOf(e.pid);
      let epoch = taken.epoch === null ? null : await this.#launcher.takeStandby(taken.epoch, config, timeline, refusal(taken.epoch));
      let since: number | null = epoch === null ? null : Date.now();
      if (epoch === null) {
        epoch = this.#launcher.spawn(config, fault, false);
        since = null;
      }
      const facts = await awaitReady(epoch, this.#opts.deadlines, timeline, refusal(epoch), since);
      epoch.workers = facts.workers;
      epoch.state = 'active';
      this.#active = epoch;
      this.#current = config;
      // The epoch's own steps, in ms since the request, say where a slow reload spent its time.
      const steps = facts.steps.filter((s) => s.at >= timeline.startedAt).map((s) => `${s.event}@${s.at - timeline.startedAt}`).join(' ');
      this.#log.info(`epoch ${epoch.number} ready`, { epochPid: epoch.pid, workers: facts.workers, sockets: facts.sockets, ms: Date.now() - timeline.startedAt, steps });
      await timeline.reached('ready');
      // Every older epoch leaves: the one that was active, and one a `proxyctl drain` parked.
      const leaving = this.#epochs.live().filter((e) => e !== epoch && !e.exiting);
      await Promise.all(leaving.map((old) => old.drain({ ...config.loaded.config.drain, exit: true })));
      this.#opts.observer.epochsChanged(this.#epochs.live());
      for (const old of leaving) timeline.add('old_epoch_draining', `epoch ${old.number} (${config.loaded.config.drain.strategy}, ${config.loaded.config.drain.drainTimeMs} ms)`);
      this.#stats.reloadSuccess.inc();
      return { type: 'reload', epoch: epoch.number, pid: epoch.pid, configPath: config.path, coalesced: false, timeline: timeline.events };
    } catch (err: unknown) {
      this.#stats.reloadFailure.inc();
      this.#log.error('reload failed; the serving epoch was not touched', { code: isProxyctlError(err) ? err.code : undefined, error: err });
      throw err;
    } finally {
      this.#busy--;
      if (this.#active === null) this.#recovery.scheduleRespawn();
      else this.#standby.replenish();
    }
  }

  /** Runs synchronously the moment an epoch's process is gone, before anything else can observe it. */
  readonly #onExit = (epoch: Epoch): void => {
    this.#region.clearLane(epoch.number);
    this.#standby.onExit(epoch);
    this.#stats.liveEpochs.set(this.#epochs.live().length);
    this.#server.forget(epoch.pid);
    this.#keeper.release(bindablesInUse(this.#epochs.live(), this.#current));
    this.#epochs.trimExited();
    if (!this.#stopping) this.#sweepScopes();
    this.#opts.observer.epochsChanged(this.#epochs.live());
    this.#recovery.exited(epoch);
  };

  /** Frees the stats of listeners and clusters no live epoch (standby included) nor the current config has. */
  #sweepScopes(): void {
    const live = this.#epochs.all.filter((e) => e.live).map((e) => e.config.loaded.config);
    sweepScopes(this.#region, [...live, this.#current.loaded.config], this.#scopeStats, this.#log);
  }

  async #shutdown(now: boolean): Promise<void> {
    this.#stopping = true;
    this.#recovery.cancel();
    this.#keeper.closeAll();
    const drain = this.#current.loaded.config.drain;
    const live = this.#epochs.live();
    await Promise.all(live.map((e) => (now ? e.terminate() : e.drain({ ...drain, exit: true }))));
    await Promise.all(live.map((e) => e.exitWithin(now ? 5_000 : drain.parentShutdownTimeMs + STOP_OVERSTAY_MS)));
    this.#server.close();
    try {
      unlinkSync(this.#opts.paths.stats);
    } catch {
      // already gone
    }
    this.#lock.release();
    this.#opts.observer.stopped();
    this.#log.info('stopped');
    this.stopped.resolve();
  }
}

function stoppingError(): ProxyctlError {
  return new ProxyctlError('PROXYCTL_ERR_STOPPING', 'the supervisor is stopping and takes no more reloads');
}
