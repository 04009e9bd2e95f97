/**
 * One epoch process, main thread: the boot to ready, the supervisor's requests, and the exit.
 *
 * Boot: hello → (worker threads start loading) → getConfig (parse) → getListenSockets → stats
 * → workers configured → admin → ready. A standby (`--standby`) stops after hello with its
 * threads loaded and the stats region mapped, says standbyReady, and waits for `activate`
 * before it asks for a config: a reload that takes it pays no process start and no module
 * loading. Workers accept only after the supervisor acknowledged ready: until then the
 * supervisor's copies keep the sockets listening and connections wait in the backlog, so a
 * crash anywhere before ready cannot reset an accepted connection.
 *
 *   booting ──ready acknowledged, workers accept──▶ serving ──drain…──▶ exiting (process.exit)
 *      └────────────── failure (exit 1/70/75/78), terminate, lost supervisor ───▶ exiting
 *
 * Draining is the DrainManager's (src/drain); this class gives it the workers and the exit.
 */
import { closeSync } from 'node:fs';
import { AdminServer } from '../../admin/server.js';
import { parseConfig } from '../../config/index.js';
import type { ProxyConfig } from '../../config/types.js';
import { DrainManager } from '../../drain/drain-manager.js';
import type { DrainTarget } from '../../drain/types.js';
import { ProxyctlError } from '../../errors.js';
import type { LevelledLogger } from '../../log.js';
import { Milestone } from '../milestone.js';
import { StatsRegion } from '../../shm/index.js';
import { StatsFlusher } from '../../stats/flusher.js';
import { ClusterManager } from '../../clusters/manager.js';
import { PROTOCOL_VERSION, connectRpc, type ActivateRequest, type EpochStep, type ListenSocketDescriptor, type RpcConnection, type RpcHandlers } from '../../uds-rpc/index.js';
import { EpochAdminHost } from './admin-host.js';
import { planSockets } from './socket-plan.js';
import { connectionLimits } from './connection-budget.js';
import { warmUpConfigParser } from './warm-up-parser.js';
import { CRASH_AFTER_READY_MS, CRASH_WORKER_AFTER_MS, INCOMPATIBLE_VERSION_OFFSET, readTestFault, type TestFault } from './test-fault.js';
import type { EpochArgs } from './types.js';
import { WorkerPool } from './worker-pool.js';
import { askForReplacement } from './worker-crash.js';
import { EpochLogLevel } from './log-level.js';
import { overflowLogger } from '../../stats/overflow-log.js';

/** Exit codes the supervisor reports (see proxyctl(1)). */
export const EpochExitCode = {
  OK: 0,
  FAILURE: 1,
  /** A crash: a fault hook, an uncaught error, a worker that died. */
  CRASH: 70,
  /** The supervisor refused our hello (PROXYCTL_ERR_HOT_RESTART_VERSION). */
  VERSION: 75,
  /** The config is invalid. */
  CONFIG: 78,
} as const;

/** The supervisor answers ready at once; this only bounds a supervisor that hangs. */
const READY_ACK_TIMEOUT_MS = 30_000;
/**
 * The longest an epoch waits for a cluster's discovery to answer, or for a host's first health
 * check, before it serves without it (Envoy's initial_fetch_timeout is 15 s; a reload waits on
 * this, so it is kept short). A host handed over by the serving epoch is never waited for.
 */
const CLUSTER_INIT_TIMEOUT_MS = 5_000;
/** How long workers get to shut down cleanly before they are terminated. */
const WORKER_SHUTDOWN_MS = 1_000;
/** Whatever happens during the exit, the process is gone this long after it began. */
const EXIT_BACKSTOP_MS = 3_000;

/** What `activate` brings a standby: the answers a cold epoch gets from getConfig and getListenSockets. */
interface Activation {
  config: ActivateRequest['config'];
  sockets: { body: { sockets: ListenSocketDescriptor[] }; fds: number[] };
}

/** `serving` starts when the workers are told to accept (after the supervisor acknowledged ready). */
type EpochPhase = 'booting' | 'serving' | 'exiting';

export class EpochProcess {
  readonly startedAt = Date.now();
  #phase: EpochPhase = 'booting';
  readonly #steps: EpochStep[] = [];
  readonly #drain: DrainManager;
  #conn: RpcConnection | null = null;
  #config: ProxyConfig | null = null;
  #stats: StatsRegion | null = null;
  #pool: WorkerPool | null = null;
  #admin: AdminServer | null = null;
  #clusters: ClusterManager | null = null;
  /** Flushes to the stats sinks while this epoch is the active one (null: not active, or no sinks). */
  #flusher: StatsFlusher | null = null;
  /** A standby's go: resolved by the supervisor's `activate`, with its config and sockets. */
  readonly #activated = new Milestone<Activation>();

  constructor(
    private readonly args: EpochArgs,
    private readonly log: LevelledLogger,
  ) {
    // Requests may arrive before the workers exist (terminate during boot): delegate late.
    const target: DrainTarget = {
      drain: (req) => this.#pool?.drain(req),
      hurry: (graceMs) => this.#pool?.hurry(graceMs),
      closeAll: async (reason) => (this.#pool === null ? 0 : this.#pool.closeAll(reason)),
      whenIdle: () => (this.#pool === null ? Promise.resolve() : this.#pool.whenIdle()),
    };
    // A drain of any kind ends this epoch's turn as the active one: its last flush goes out now.
    const hooks = { drainStarted: () => this.#stopFlushing(), closeAdmin: () => this.#admin?.close(), exit: (code: number, reason: string) => void this.exit(code, reason) };
    this.#drain = new DrainManager(target, hooks, log);
  }

  /** Boots to serving. Rejects on failure; the caller maps the error to an exit code. */
  async run(): Promise<void> {
    const fault = readTestFault(process.env, this.log);
    const conn = await this.#hello(fault);
    this.#step('hello');
    // The threads load their code while the config is fetched and parsed.
    const starting = WorkerPool.start({
      epoch: this.args.epoch,
      statsPath: this.args.stats,
      workers: this.args.workersHint,
      log: this.log,
      logLevel: this.args.logLevel,
      onCrash: (index, reason) => this.#workerCrashed(index, reason),
      onOutlier: (cluster, host, kind) => this.#clusters?.onOutlier(cluster, host, kind),
    });
    starting.catch(() => {}); // awaited below; a failure must not end the process before that
    if (this.args.standby) {
      this.#pool = await starting;
      this.#stats = StatsRegion.open(this.args.stats, { epoch: this.args.epoch, onFull: overflowLogger(this.log) });
      this.#step('workers_loaded');
      await warmUpConfigParser(this.log);
      await conn.request({ type: 'standbyReady', workers: this.#pool.size, steps: this.#steps });
      this.log.info('standby: warm, waiting for a reload', { workers: this.#pool.size });
      // Best-effort, after standbyReady: a reload that comes first cuts it short (warm-up.ts).
      this.#pool.warmUp();
    }
    const activation = this.args.standby ? await this.#activated.promise : null;
    if (this.#stopped()) return;
    if (activation !== null) this.#step('activated');

    const given = activation?.config ?? (await conn.request({ type: 'getConfig' })).body;
    const loaded = parseConfig(given.text, given.source);
    const override = given.workersOverride;
    const config: ProxyConfig = override === null ? loaded.config : { ...loaded.config, workers: override };
    this.#config = config;
    this.#step('config_loaded');

    // Discovery and first health checks run while the sockets come and the workers build.
    const stats = this.#stats ?? StatsRegion.open(this.args.stats, { epoch: this.args.epoch, onFull: overflowLogger(this.log) });
    this.#stats = stats;
    const clusters = new ClusterManager(config.clusters, { stats, log: this.log, publish: (m) => this.#pool?.publish(m), handoff: given.clusterState ?? null });
    this.#clusters = clusters;
    const clustersReady = clusters.ready(CLUSTER_INIT_TIMEOUT_MS).then(() => this.#step('clusters_ready'));

    const socketsReply = activation?.sockets ?? (await conn.request({ type: 'getListenSockets' }));
    this.#step('sockets_received');
    const plan = planSockets(socketsReply.body.sockets, socketsReply.fds, config.listeners.map((l) => l.name), config.workers);
    for (const s of plan.unused) {
      this.log.warn('closing a socket nobody here uses', { kind: s.kind, name: s.name });
      closeSync(s.fd);
    }
    if (plan.missing.length > 0) throw new Error(`no listening socket handed over for listener(s) ${plan.missing.join(', ')}`);

    if (fault === 'crash-before-ready') this.#crashNow(fault);
    if (fault === 'hang-before-ready') {
      this.log.warn('test fault: never sending ready');
      return;
    }

    stats.gauge('server.hot_restart_generation', 'max').set(this.args.epoch);

    const pool = await starting;
    this.#pool = pool;
    await clustersReady;
    if (this.#stopped()) return;
    // The workers build their planes while the admin endpoint starts: 1 to 2 ms off a 10 ms reload.
    const adminFd = plan.admin;
    await Promise.all([
      pool.configure(config, plan.perWorker, [...clusters.memberships().values()], connectionLimits(config, plan.perWorker.flat().length, this.log)).then(() => this.#step('workers_ready')),
      adminFd === null
        ? null
        : (async () => {
            const host = new EpochAdminHost(conn, given.hostHealthFailed === true);
            const admin = new AdminServer({ epoch: this.args.epoch, workers: config.workers, configHash: loaded.hash, config, startedAt: this.startedAt, stats, clusters, host, draining: () => this.#drain.draining, logging: new EpochLogLevel(this.log, pool) }, this.log);
            this.#admin = admin;
            await admin.listen(adminFd);
            this.#step('admin_ready');
          })(),
    ]);
    if (this.#stopped()) return;

    const sockets = plan.perWorker.reduce((n, list) => n + list.length, 0);
    await conn.request({ type: 'ready', workers: config.workers, sockets, steps: this.#steps }, { timeoutMs: READY_ACK_TIMEOUT_MS });
    if (this.#stopped()) return;
    // From here workers may accept: losing the supervisor, or a signal, now means a drain.
    this.#phase = 'serving';
    await this.#pool.listen();
    if (this.#stopped()) return;
    this.#flusher = StatsFlusher.start(config.stats, stats, this.log);
    this.log.info('serving', { workers: config.workers, sockets, admin: plan.admin !== null, configHash: loaded.hash });
    if (fault === 'crash-after-ready') setTimeout(() => this.#crashNow(fault), CRASH_AFTER_READY_MS);
    if (fault === 'crash-worker') setTimeout(() => pool.crashForTest(0), CRASH_WORKER_AFTER_MS);
  }

  /**
   * Shuts down and exits the process with `code`: admin closed, workers ended (connections
   * still open are destroyed), RPC closed. Runs once; a backstop ends the process regardless.
   */
  async exit(code: number, reason: string): Promise<void> {
    if (this.#phase === 'exiting') return;
    this.#phase = 'exiting';
    this.log.info('exiting', { code, reason });
    setTimeout(() => process.exit(code), EXIT_BACKSTOP_MS).unref();
    this.#stopFlushing();
    this.#admin?.close();
    this.#clusters?.stop();
    await this.#pool?.shutdown(WORKER_SHUTDOWN_MS);
    this.#conn?.close();
    process.exit(code);
  }

  /**
   * SIGUSR1 (the supervisor forwards logrotate's): every worker flushes, closes and reopens its
   * access log files. A standby or booting epoch has none open yet; its workers answer 0.
   */
  async reopenLogs(): Promise<void> {
    if (this.#pool === null || this.#phase === 'exiting') return;
    const files = await this.#pool.reopenLogs();
    if (files === null) this.log.warn('access logs: some worker did not confirm the reopen in time');
    else this.log.info('access logs reopened', { files, workers: this.#pool.size });
  }

  /** SIGTERM / SIGINT: drain and exit like a stop (a second one terminates). */
  onSignal(signal: NodeJS.Signals): void {
    if (this.#phase === 'exiting') return;
    if (this.#phase === 'booting' || this.#config === null) {
      this.log.info('signal during boot: exiting', { signal });
      void this.exit(EpochExitCode.OK, signal);
    } else if (this.#drain.exitMode) {
      this.log.warn('second signal: terminating', { signal });
      this.#drain.terminate();
    } else {
      this.log.info('signal: draining, then exiting', { signal });
      this.#drain.drain({ ...this.#config.drain, exit: true });
    }
  }

  // ---- boot steps -----------------------------------------------------------------------

  async #hello(fault: TestFault | null): Promise<RpcConnection> {
    const hello = fault === 'incompatible-version' ? { role: 'epoch' as const, epoch: this.args.epoch, protocolVersion: PROTOCOL_VERSION + INCOMPATIBLE_VERSION_OFFSET } : { role: 'epoch' as const, epoch: this.args.epoch };
    const conn = await connectRpc(this.args.socket, hello, { handlers: this.#handlers });
    this.#conn = conn;
    conn.onClose(this.#onRpcClosed);
    return conn;
  }

  #stopFlushing(): void {
    void this.#flusher?.stop();
    this.#flusher = null;
  }

  #step(event: string): void {
    this.#steps.push({ event, at: Date.now() });
  }

  /** The boot must not go on: a drain or terminate came first, or we are on the way out. */
  #stopped(): boolean {
    return this.#phase === 'exiting' || this.#drain.draining;
  }

  #crashNow(fault: TestFault): never {
    this.log.error('test fault: crashing', { fault });
    process.exit(EpochExitCode.CRASH);
  }

  /** A worker died: during the boot the epoch fails; once serving, the others serve on (worker-crash.ts). */
  #workerCrashed(index: number, reason: string): void {
    if (this.#phase === 'exiting') return;
    if (this.#phase === 'booting' || this.#conn === null) {
      this.log.error('worker crashed during the boot: exiting', { worker: index, reason });
      process.exit(EpochExitCode.CRASH);
    }
    const left = this.#pool?.size ?? 0;
    if (this.#drain.draining) {
      this.log.error('worker crashed while draining: the others finish the drain', { worker: index, reason, workersLeft: left });
      return;
    }
    void askForReplacement(this.#conn, index, reason, left, this.log).then((servesOn) => {
      if (!servesOn && !this.#drain.draining) process.exit(EpochExitCode.CRASH);
    });
  }

  readonly #onRpcClosed = (reason: ProxyctlError): void => {
    if (this.#phase === 'exiting') return;
    if (this.#phase === 'booting' || this.#config === null) {
      this.log.error('lost the supervisor during boot', { code: reason.code });
      void this.exit(EpochExitCode.FAILURE, 'supervisor gone');
      return;
    }
    // Stop accepting at once, so a new supervisor can take the ports; drain like a stop.
    this.log.warn('lost the supervisor: draining, then exiting', { code: reason.code });
    this.#drain.drain({ ...this.#config.drain, exit: true });
  };

  // ---- RPC handlers (supervisor → epoch) ------------------------------------------------

  /**
   * Open downstream connections: asked of the workers (they own them); if one does not answer
   * in time, this epoch's lane of the listeners' active-connection gauges stands in.
   */
  async #connections(): Promise<number> {
    if (this.#pool === null) return 0;
    const counted = await this.#pool.connections();
    if (counted !== null) return counted;
    let sum = 0n;
    if (this.#stats !== null && this.#config !== null) {
      for (const l of this.#config.listeners) sum += this.#stats.gauge(`listener.${l.name}.downstream_cx_active`).laneValue();
    }
    return sum > 0n ? Number(sum) : 0;
  }

  readonly #handlers: RpcHandlers = {
    drain: async (req) => {
      const connections = await this.#connections();
      this.#drain.drain(req);
      return { body: { type: 'drain', connections } };
    },
    hurry: async (req) => {
      const connections = await this.#connections();
      this.#drain.hurry(req.graceMs);
      return { body: { type: 'hurry', connections } };
    },
    terminate: async () => {
      const connections = await this.#connections();
      // After the reply is written (it is, synchronously, once this handler's promise settles).
      setImmediate(() => this.#drain.terminate());
      return { body: { type: 'terminate', connections } };
    },
    activate: (req, ctx) => {
      if (!this.args.standby || this.#activated.done) {
        for (const fd of ctx.fds) closeSync(fd);
        throw new ProxyctlError('PROXYCTL_ERR_RPC_PROTOCOL', 'this epoch is not a waiting standby');
      }
      this.#activated.resolve({ config: req.config, sockets: { body: { sockets: req.sockets }, fds: ctx.fds } });
      return { body: { type: 'activate' } };
    },
    epochStatus: async () => ({
      body: { type: 'epochStatus', connections: await this.#connections(), workers: this.#pool?.size ?? 0, draining: this.#drain.draining },
    }),
    // Before the config is parsed (booting, a standby) there are no clusters: nothing to hand over or show.
    clusterState: () => ({ body: { type: 'clusterState', handoff: this.#clusters?.handoff() ?? { clusters: {} }, views: this.#clusters?.views() ?? [] } }),
  };
}
