/**
 * The supervisor's view of one epoch process: its state, its child process, its RPC
 * connection, and the milestones of its way to ready. All talk to the process goes through
 * here; the supervisor decides what to say and when.
 *
 *   starting ──ready──▶ active ──drain──▶ draining ──exit──▶ exited
 *       └──────────────── exit / killed at a deadline ────────▶ exited
 *
 * A standby stays `starting` (with `standby` set) until a reload takes it: `warm` resolves
 * when it has loaded, `activate` lets it boot on.
 */
import { createInterface } from 'node:readline';
import type { ResultPromise } from 'execa';
import { forwardLine, type Logger, type LineSink } from '../../log.js';
import { Milestone } from '../milestone.js';
import type { ConfigVersion } from './config-version.js';
import type { ActivateRequest, ClusterStateReply, DrainEpochRequest, EpochState, EpochStep, HurryRequest, RpcConnection, TerminateRequest } from '../../uds-rpc/index.js';

/** How an epoch process ended. */
export interface EpochExit {
  code: number | null;
  signal: string | null;
}

export interface ReadyFacts {
  workers: number;
  sockets: number;
  steps: EpochStep[];
}

/** What a standby says once it is warm. */
export interface StandbyFacts {
  workers: number;
  steps: EpochStep[];
}

/** How long a control request to an epoch may take; an epoch that does not answer is not waited for. */
const CONTROL_TIMEOUT_MS = 2_000;

export class Epoch {
  state: EpochState = 'starting';
  readonly spawnedAt = Date.now();
  workers = 0;
  conn: RpcConnection | null = null;
  exit: EpochExit | null = null;
  exitedAt = 0;
  /** Set by `proxyctl drain`: this epoch stays up out of rotation. */
  hostDrained = false;
  /** Told to leave (drain with exit, hurry, terminate): it will exit by itself. */
  exiting = false;
  /** When the drain it was told to do ends (`status` shows what is left), or null: not told to drain. */
  drainDeadlineAt: number | null = null;
  readonly hello = new Milestone<void>();
  readonly socketsSent = new Milestone<number>();
  readonly ready = new Milestone<ReadyFacts>();
  readonly exited = new Milestone<EpochExit>();
  /** A standby: code loaded, workers started, waiting for `activate`. */
  readonly warm = new Milestone<StandbyFacts>();
  readonly pid: number;
  /** Spawned as the standby and not yet taken by a reload. */
  standby: boolean;

  constructor(
    readonly number: number,
    /** The config this epoch runs (its listeners' sockets stay bound while it lives); a standby gets it when taken. */
    public config: ConfigVersion,
    /** codeFingerprint() of the installed package when this epoch was spawned. */
    readonly fingerprint: string,
    standby: boolean,
    private readonly child: ResultPromise,
    private readonly log: Logger,
    logSink: LineSink,
    /** Called synchronously when the process is gone, before `exited` resolves. */
    private readonly onExit: (epoch: Epoch) => void,
  ) {
    this.pid = child.pid ?? 0;
    this.standby = standby;
    // Epoch lines are JSON with their own time, pid and epoch; they are passed on unchanged, so
    // the supervisor's log (and its reopen on SIGUSR1) covers every process.
    const origin = { component: 'epoch', epoch: number, pid: this.pid };
    for (const stream of [child.stdout, child.stderr]) {
      if (stream !== null) createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => forwardLine(logSink, line, origin));
    }
    // Spawned with reject:false, so this settles with a result however the process ended.
    child.then(
      (result) => this.#ended({ code: result.exitCode ?? null, signal: result.signal ?? null }),
      () => this.#ended({ code: null, signal: null }),
    );
  }

  get live(): boolean {
    return this.state !== 'exited';
  }

  uptimeMs(now = Date.now()): number {
    return (this.state === 'exited' ? this.exitedAt : now) - this.spawnedAt;
  }

  attach(conn: RpcConnection): void {
    this.conn = conn;
    this.hello.resolve();
  }

  /** Asks the epoch to drain (see DrainEpochRequest). Failure to ask is logged, not thrown: the epoch's deadline still ends it. */
  async drain(drain: Omit<DrainEpochRequest, 'type'>): Promise<void> {
    if (this.state === 'active' || this.state === 'starting') this.state = 'draining';
    const at = Date.now() + (drain.exit ? drain.parentShutdownTimeMs : drain.drainTimeMs);
    // The first drain that exits sets the exit deadline; a `proxyctl drain` before it did not.
    this.drainDeadlineAt = drain.exit && !this.exiting ? at : soonerDeadline(this.drainDeadlineAt, at);
    if (drain.exit) this.exiting = true;
    await this.#control({ type: 'drain', ...drain });
  }

  /** Immediate drain, then forced closes after `graceMs`. */
  async hurry(graceMs: number): Promise<void> {
    this.state = 'draining';
    this.exiting = true;
    this.drainDeadlineAt = soonerDeadline(this.drainDeadlineAt, Date.now() + graceMs);
    await this.#control({ type: 'hurry', graceMs });
  }

  /** Lets a warm standby boot on with its config and sockets (see ActivateRequest). Throws if it does not take them. */
  async activate(config: ActivateRequest['config'], sockets: { body: { sockets: ActivateRequest['sockets'] }; fds: number[] }): Promise<void> {
    if (this.conn === null || this.conn.closed) throw new Error(`standby epoch ${this.number} is not connected`);
    this.standby = false;
    const sent = this.conn.request({ type: 'activate', config, sockets: sockets.body.sockets }, { timeoutMs: CONTROL_TIMEOUT_MS, fds: sockets.fds });
    this.socketsSent.resolve(sockets.fds.length);
    await sent;
  }

  /** Close everything now and exit. */
  async terminate(): Promise<void> {
    this.exiting = true;
    await this.#control({ type: 'terminate' });
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.exit === null) this.child.kill(signal);
  }

  /**
   * Waits up to `ms` for the process to exit, then kills it and waits for that. The epoch's
   * own deadlines should have ended it; this is the backstop for one that hangs.
   */
  async exitWithin(ms: number): Promise<EpochExit> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(resolve, ms, 'timeout')));
    const first = await Promise.race([this.exited.promise, timedOut]);
    clearTimeout(timer);
    if (first !== 'timeout') return first;
    this.log.warn(`epoch ${this.number} did not exit in time; killing it`, { epochPid: this.pid, waitedMs: ms });
    this.kill('SIGKILL');
    return this.exited.promise;
  }

  /** Open connections as the epoch counts them, or null when it does not answer in time. */
  async connections(): Promise<number | null> {
    if (this.conn === null || this.conn.closed || !this.live) return null;
    try {
      const reply = await this.conn.request({ type: 'epochStatus' }, { timeoutMs: CONTROL_TIMEOUT_MS });
      return reply.body.connections;
    } catch {
      return null;
    }
  }

  /**
   * The epoch's cluster state (what it would hand over, what operators see), or null when it
   * does not answer within `timeoutMs`, or answers unrecognized (an epoch from before the
   * question). Never throws.
   */
  async clusterState(timeoutMs = CONTROL_TIMEOUT_MS): Promise<Omit<ClusterStateReply, 'type'> | null> {
    if (this.conn === null || this.conn.closed || !this.live) return null;
    try {
      const { body } = await this.conn.request({ type: 'clusterState' }, { timeoutMs });
      return { handoff: body.handoff, views: body.views };
    } catch {
      return null;
    }
  }

  async #control(message: DrainEpochRequest | HurryRequest | TerminateRequest): Promise<void> {
    if (this.conn === null || this.conn.closed) {
      // Not connected (still starting, or its connection broke): a signal is all it can get.
      this.kill(message.type === 'drain' ? 'SIGTERM' : 'SIGKILL');
      return;
    }
    try {
      await this.conn.request(message, { timeoutMs: CONTROL_TIMEOUT_MS });
    } catch (err: unknown) {
      this.log.warn(`epoch ${this.number} did not take ${message.type}`, { epochPid: this.pid, error: err });
      if (message.type !== 'drain') this.kill('SIGKILL');
    }
  }

  #ended(exit: EpochExit): void {
    this.exit = exit;
    this.exitedAt = Date.now();
    this.state = 'exited';
    this.conn?.close();
    this.onExit(this);
    this.exited.resolve(exit);
  }
}

/** A repeated drain or a hurry can only bring the deadline closer, as the epoch's drain manager merges them. */
function soonerDeadline(current: number | null, next: number): number {
  return current === null ? next : Math.min(current, next);
}
