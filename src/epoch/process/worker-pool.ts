/**
 * The epoch's worker threads, seen from the main thread: start them (code loaded, no config),
 * configure them with the config and their sockets, tell them to accept, drain, hurry or
 * close, ask them for counts, and notice when one dies. A worker that dies while the pool is
 * not shutting down is a crash: the pool leaves it out from then on (broadcasts, counts, the
 * idle wait) and reports it; the epoch decides what follows (epoch-process.ts #workerCrashed).
 */
import type { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import type { ProxyConfig } from '../../config/types.js';
import type { Logger, LogLevel } from '../../log.js';
import type { DrainRequest } from '../../proxy/types.js';
import type { DrainTarget } from '../../drain/types.js';
import type { ClusterMembership, OutlierKind } from '../../clusters/types.js';
import { createConnectionIdBuffer } from '../../proxy/access-log/connection-id.js';
import type { WorkerCommand, WorkerEvent, WorkerInit, WorkerSocket } from './types.js';
import type { ConnectionLimitsInit } from '../../proxy/limits/types.js';

export interface WorkerPoolOptions {
  readonly epoch: number;
  readonly statsPath: string;
  /** Threads to start now; `configure` adds or ends some if the config wants another count. */
  readonly workers: number;
  readonly log: Logger;
  /** The level threads start at (`--log-level`); setLogLevel changes it. */
  readonly logLevel: LogLevel;
  /** A worker died or failed outside a shutdown; it is no longer in the pool. Called once per worker. */
  readonly onCrash: (index: number, reason: string) => void;
  /** A worker saw a host's consecutive failures reach its cluster's outlier threshold. */
  readonly onOutlier: (cluster: string, host: string, kind: OutlierKind) => void;
}

/** How long a worker may take to answer a count or a closeAll before it is left out. */
const ASK_TIMEOUT_MS = 1_000;
/** After a worker exits, how long its last log lines get to come through its stderr. */
const STDIO_FLUSH_MS = 200;

function ended(stream: Readable): Promise<void> {
  if (stream.readableEnded || stream.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    stream.once('end', resolve);
    stream.once('close', resolve);
  });
}

interface Asked {
  readonly resolve: (value: number | null) => void;
  readonly timer: NodeJS.Timeout;
}

/** Stages every worker reaches together: code loaded, plane configured. */
type Stage = 'loaded' | 'prepared';

interface PoolWorker {
  readonly index: number;
  readonly thread: Worker;
  readonly exited: Promise<void>;
  /** The stages this worker has reached. */
  readonly reached: Set<Stage>;
  listening: boolean;
  idle: boolean;
  /** Ended on purpose (the config wants fewer threads): its exit is not a crash. */
  retired: boolean;
  /** Died outside a shutdown, and reported (its 'error' and its 'exit' are one crash). */
  crashed: boolean;
}

function onAskTimeout(pool: WorkerPool, id: number): void {
  pool.answer(id, null);
}

export class WorkerPool implements DrainTarget {
  readonly #workers: PoolWorker[] = [];
  readonly #asked = new Map<number, Asked>();
  #nextId = 1;
  #shuttingDown = false;
  /** Who waits for every worker to reach a stage (see #until). */
  readonly #waiting = new Map<Stage, (err: Error | null) => void>();
  #onListening: ((err: Error | null) => void) | null = null;
  #idleWaiters: Array<() => void> = [];
  readonly #connectionIds = createConnectionIdBuffer();
  #logLevel: LogLevel;

  private constructor(private readonly opts: WorkerPoolOptions) {
    this.#logLevel = opts.logLevel;
  }

  /** Starts `opts.workers` threads and resolves once each has loaded its code; rejects if one could not. */
  static async start(opts: WorkerPoolOptions): Promise<WorkerPool> {
    const pool = new WorkerPool(opts);
    try {
      await pool.#grow(opts.workers);
    } catch (err: unknown) {
      await pool.shutdown(ASK_TIMEOUT_MS);
      throw err;
    }
    return pool;
  }

  get size(): number {
    return this.#workers.length;
  }

  /**
   * Gives every worker its plane's config and its sockets (`sockets[w]` for worker w, see
   * socket-plan.ts; its length is the worker count), first starting or ending threads so the
   * count matches. Resolves once each has prepared; rejects (and shuts the pool down) if one could not.
   */
  async configure(config: ProxyConfig, sockets: readonly (readonly WorkerSocket[])[], memberships: readonly ClusterMembership[], limits: ConnectionLimitsInit | null = null): Promise<void> {
    try {
      if (sockets.length > this.#workers.length) await this.#grow(sockets.length);
      for (const extra of this.#workers.splice(sockets.length)) {
        extra.retired = true;
        extra.thread.postMessage({ type: 'shutdown' } satisfies WorkerCommand);
      }
      const prepared = this.#until('prepared');
      this.#workers.forEach((w, i) => {
        w.thread.postMessage({ type: 'configure', config, sockets: sockets[i] ?? [], memberships, limits } satisfies WorkerCommand);
      });
      await prepared;
    } catch (err: unknown) {
      await this.shutdown(ASK_TIMEOUT_MS);
      throw err;
    }
  }

  /** A cluster's new membership, to every worker (its counters' SharedArrayBuffers are shared, not copied). */
  publish(membership: ClusterMembership): void {
    this.#broadcast({ type: 'membership', membership });
  }

  /** A standby's workers start their best-effort warm-up traffic (warm-up.ts); each logs its outcome. */
  warmUp(): void {
    this.#broadcast({ type: 'warmUp' });
  }

  /** Starts threads until there are `count`, and waits until every one has loaded. */
  async #grow(count: number): Promise<void> {
    const loaded = this.#until('loaded');
    while (this.#workers.length < count) this.#spawn(this.#workers.length);
    await loaded;
  }

  /** Settles once every worker has reached `stage`, or with the first failure. */
  #until(stage: Stage): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#waiting.set(stage, (err: Error | null): void => (err === null ? resolve() : reject(err)));
    });
  }

  /** Tells every worker to accept; resolves once all listen, rejects on the first socket that cannot. */
  listen(): Promise<void> {
    const done = new Promise<void>((resolve, reject) => (this.#onListening = (err) => (err === null ? resolve() : reject(err))));
    this.#broadcast({ type: 'listen' });
    return done;
  }

  // ---- DrainTarget ------------------------------------------------------------------------

  drain(req: DrainRequest): void {
    this.#broadcast({ type: 'drain', request: req });
  }

  hurry(graceMs: number): void {
    this.#broadcast({ type: 'hurry', graceMs });
  }

  async closeAll(reason: string): Promise<number> {
    const counts = await Promise.all(this.#workers.map((w) => this.#ask(w, (id) => ({ type: 'closeAll', id, reason }))));
    return counts.reduce<number>((sum, n) => sum + (n ?? 0), 0);
  }

  whenIdle(): Promise<void> {
    return new Promise((resolve) => {
      this.#idleWaiters.push(resolve);
      this.#checkIdle();
    });
  }

  // ---------------------------------------------------------------------------------------

  /** Open connections over all workers, or null if some worker did not answer in time. */
  connections(): Promise<number | null> {
    return this.#askAll((id) => ({ type: 'count', id }));
  }

  /**
   * SIGUSR1: every worker flushes, closes and reopens its access log files. Resolves with the
   * files reopened over all workers, or null if some worker did not answer in time.
   */
  reopenLogs(): Promise<number | null> {
    return this.#askAll((id) => ({ type: 'reopenLogs', id }));
  }

  /** Admin `/logging`: every worker, and any started later, logs at `level`. */
  setLogLevel(level: LogLevel): void {
    this.#logLevel = level;
    this.#broadcast({ type: 'setLogLevel', level });
  }

  /** The `crash-worker` test fault (test-fault.ts): worker `index` throws an uncaught error. */
  crashForTest(index: number): void {
    this.#workers.find((w) => w.index === index)?.thread.postMessage({ type: 'testCrash' } satisfies WorkerCommand);
  }

  /** Ends every worker: a clean shutdown first, `terminate()` for one that takes longer than `timeoutMs`. */
  async shutdown(timeoutMs: number): Promise<void> {
    this.#shuttingDown = true;
    this.#broadcast({ type: 'shutdown' });
    await Promise.all(
      this.#workers.map(async (w) => {
        const timer = setTimeout(() => void w.thread.terminate(), timeoutMs);
        await w.exited;
        clearTimeout(timer);
      }),
    );
  }

  /** A worker's answer to request `id` (or null: it timed out). */
  answer(id: number, value: number | null): void {
    const asked = this.#asked.get(id);
    if (asked === undefined) return;
    this.#asked.delete(id);
    clearTimeout(asked.timer);
    asked.resolve(value);
  }

  #spawn(index: number): void {
    const init: WorkerInit = { epoch: this.opts.epoch, index, statsPath: this.opts.statsPath, connectionIds: this.#connectionIds, logLevel: this.#logLevel };
    const thread = new Worker(new URL('./worker.js', import.meta.url), { workerData: init });
    // Not events.once: it would reject on 'error', which is reported through #crash instead.
    // A worker's stderr reaches ours through a stream; its last lines may still be on the way
    // at 'exit', and the process exits right after the pool.
    const exited = new Promise<void>((resolve) =>
      thread.once('exit', () => {
        const timer = setTimeout(resolve, STDIO_FLUSH_MS);
        void Promise.all([ended(thread.stdout), ended(thread.stderr)]).then(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
    );
    const worker: PoolWorker = { index, thread, exited, reached: new Set(), listening: false, idle: false, retired: false, crashed: false };
    this.#workers.push(worker);
    thread.on('message', (event: WorkerEvent) => this.#onEvent(worker, event));
    thread.on('error', (err: Error) => this.#crash(worker, `uncaught ${err.name}: ${err.message}`));
    thread.on('exit', (code: number) => {
      if (!this.#shuttingDown && !worker.retired) this.#crash(worker, `exited with code ${code}`);
    });
  }

  #onEvent(w: PoolWorker, event: WorkerEvent): void {
    switch (event.type) {
      case 'outlier':
        this.opts.onOutlier(event.cluster, event.host, event.kind);
        return;
      case 'warmed':
        if (event.outcome === 'failed') this.opts.log.warn('worker warm-up failed; it starts colder', { worker: w.index, ms: event.ms });
        else this.opts.log.info(`worker warm-up ${event.outcome}`, { worker: w.index, ms: event.ms });
        return;
      case 'loaded':
      case 'prepared':
        this.#reach(w, event.type);
        return;
      case 'prepareFailed': {
        // The pool is abandoned (the epoch cannot start): the threads' ends are not crashes.
        this.#shuttingDown = true;
        this.opts.log.error('worker could not start', { worker: w.index, code: event.code ?? undefined, error: event.message });
        const err = new Error(`worker ${w.index} could not start: ${event.message}`);
        for (const stage of [...this.#waiting.keys()]) this.#settle(stage, err);
        return;
      }
      case 'listening':
        w.listening = true;
        if (this.#workers.every((x) => x.listening)) this.#settleListening(null);
        return;
      case 'listenFailed':
        this.#settleListening(new Error(`worker ${w.index} cannot listen on ${event.listener} slot ${event.slot}: ${event.message}`));
        return;
      case 'idle':
        w.idle = true;
        this.#checkIdle();
        return;
      case 'count':
        this.answer(event.id, event.connections);
        return;
      case 'closed':
        this.answer(event.id, event.count);
        return;
      case 'reopened':
        this.answer(event.id, event.files);
        return;
    }
  }

  #ask(w: PoolWorker, make: (id: number) => WorkerCommand): Promise<number | null> {
    const id = this.#nextId++;
    return new Promise((resolve) => {
      this.#asked.set(id, { resolve, timer: setTimeout(onAskTimeout, ASK_TIMEOUT_MS, this, id) });
      w.thread.postMessage(make(id));
    });
  }

  /** The sum of every worker's answer, or null if one did not answer in time. */
  async #askAll(make: (id: number) => WorkerCommand): Promise<number | null> {
    const answers = await Promise.all(this.#workers.map((w) => this.#ask(w, make)));
    return answers.some((n) => n === null) ? null : answers.reduce<number>((sum, n) => sum + (n ?? 0), 0);
  }

  #broadcast(cmd: WorkerCommand): void {
    for (const w of this.#workers) w.thread.postMessage(cmd);
  }

  #checkIdle(): void {
    if (!this.#workers.every((w) => w.idle)) return;
    for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }

  #reach(w: PoolWorker, stage: Stage): void {
    w.reached.add(stage);
    if (this.#workers.every((x) => x.reached.has(stage))) this.#settle(stage, null);
  }

  #settle(stage: Stage, err: Error | null): void {
    const settle = this.#waiting.get(stage);
    this.#waiting.delete(stage);
    settle?.(err);
  }

  #settleListening(err: Error | null): void {
    const settle = this.#onListening;
    this.#onListening = null;
    settle?.(err);
  }

  #crash(w: PoolWorker, reason: string): void {
    if (w.crashed) return;
    w.crashed = true;
    const at = this.#workers.indexOf(w);
    if (at >= 0) this.#workers.splice(at, 1);
    this.opts.onCrash(w.index, reason);
    // Those left may be all that a wait was waiting for.
    this.#checkIdle();
    if (this.#workers.every((x) => x.listening)) this.#settleListening(null);
  }
}
