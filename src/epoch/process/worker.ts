/**
 * Worker thread entry: one data plane, the listening sockets the main thread assigned to it,
 * and nothing shared with other workers except the stats region (its own mapping). It loads
 * and maps the region at once (`loaded`), builds its plane when told `configure` (`prepared`),
 * and accepts only when told `listen`: the main thread says so after the supervisor has
 * acknowledged ready, so a crash before that can never reset a connection.
 */
import { createServer, type Server } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { isProxyctlError } from '../../errors.js';
import { createLogger, type LevelledLogger } from '../../log.js';
import { DataPlane } from '../../proxy/index.js';
import { threadAccessLogFiles, useSharedConnectionIds } from '../../proxy/access-log/index.js';
import { StatsRegion } from '../../shm/index.js';
import { stopWarmUp, warmUpDataPlane } from './warm-up.js';
import { nativeSockets } from '../../native.js';
import { FdListenSource } from './listen-source.js';
import type { ClusterMembership } from '../../clusters/types.js';
import type { ConfigureCommand, WorkerCommand, WorkerEvent, WorkerInit, WorkerSocket } from './types.js';
import { overflowLogger } from '../../stats/overflow-log.js';

interface Assigned {
  readonly socket: WorkerSocket;
  readonly server: Server;
}

/** Listens on an inherited fd; Node owns the fd from here on and closes it with the server. */
function listenOnFd(server: Server, fd: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ fd }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

class WorkerRuntime {
  readonly #log: LevelledLogger;
  readonly #plane: DataPlane;
  #assigned: Assigned[] = [];
  /** The standby's warm-up traffic while it runs (see warm-up.ts). */
  #warming: Promise<void> | null = null;
  /** Set by drain/hurry/shutdown: a later `listen` must not start accepting. */
  #stopped = false;
  #idleWatched = false;
  #configured = false;
  /** The newest membership of each cluster the main thread sent (one may come before `configure` is applied). */
  readonly #memberships = new Map<string, ClusterMembership>();

  constructor(
    init: WorkerInit,
    private readonly post: (event: WorkerEvent) => void,
  ) {
    this.#log = createLogger({ component: `worker ${init.index}`, epoch: init.epoch }, process.stderr, init.logLevel);
    const stats = StatsRegion.open(init.statsPath, { epoch: init.epoch, onFull: overflowLogger(this.#log) });
    this.#plane = new DataPlane({ stats, log: this.#log, onOutlier: (cluster, host, kind) => this.post({ type: 'outlier', cluster, host, kind }) });
    useSharedConnectionIds(init.connectionIds);
    threadAccessLogFiles.setWarn((msg, fields) => this.#log.warn(msg, fields));
  }

  handle(cmd: WorkerCommand): void {
    switch (cmd.type) {
      case 'warmUp':
        this.#warming = warmUpDataPlane().then((r) => {
          this.#warming = null;
          this.post({ type: 'warmed', ms: r.ms, outcome: r.outcome });
        });
        return;
      case 'configure':
        if (this.#warming === null) this.#configure(cmd);
        else {
          // A reload took the standby while it was warming up: stop, tidy up, then build.
          stopWarmUp();
          void this.#warming.then(() => this.#configure(cmd));
        }
        return;
      case 'membership':
        if (this.#newer(cmd.membership) && this.#configured) {
          this.#plane.applyMembership(cmd.membership);
          this.#log.debug('cluster membership applied', { cluster: cmd.membership.cluster, version: cmd.membership.version, hosts: cmd.membership.hosts.length });
        }
        return;
      case 'listen':
        void this.#listen();
        return;
      case 'drain':
        this.#stop();
        this.#plane.startDrain(cmd.request);
        this.#watchIdle();
        return;
      case 'hurry':
        this.#stop();
        this.#plane.hurry(cmd.graceMs);
        this.#watchIdle();
        return;
      case 'closeAll':
        this.post({ type: 'closed', id: cmd.id, count: this.#plane.closeAll(cmd.reason) });
        return;
      case 'count':
        this.post({ type: 'count', id: cmd.id, connections: this.#plane.connections() });
        return;
      case 'setLogLevel':
        this.#log.level = cmd.level;
        return;
      case 'reopenLogs':
        void threadAccessLogFiles.reopenAll().then((files) => {
          this.#log.debug('access logs reopened', { files });
          this.post({ type: 'reopened', id: cmd.id, files });
        });
        return;
      case 'testCrash':
        setImmediate(throwTestCrash);
        return;
      case 'shutdown':
        this.#stop();
        void this.#plane
          .shutdown()
          .catch((err: unknown) => this.#log.error('plane shutdown failed', { error: err }))
          // Connections destroyed by the shutdown log their line from their 'close' event, a
          // loop turn later: let those come in, then write every buffered line before the end.
          .then(() => new Promise((resolve) => setImmediate(resolve)))
          .then(() => threadAccessLogFiles.closeAll())
          .catch((err: unknown) => this.#log.error('access logs could not be closed cleanly', { error: err }))
          .finally(() => parentPort?.close());
        return;
    }
  }

  #configure(cmd: ConfigureCommand): void {
    try {
      for (const m of cmd.memberships) this.#newer(m);
      this.#plane.applyConfig(cmd.config, { memberships: this.#memberships });
      if (cmd.limits !== null) this.#plane.useConnectionLimits(cmd.limits);
      this.#configured = true;
      this.#assigned = cmd.sockets.map((socket) => ({ socket, server: createServer() }));
      this.#log.debug('plane configured', { listeners: cmd.config.listeners.length, sockets: cmd.sockets.length, clusters: cmd.memberships.length });
    } catch (err: unknown) {
      this.post(prepareFailed(err));
      return;
    }
    this.post({ type: 'prepared' });
  }

  /** Keeps `m` if it is newer than what this worker has for its cluster; says whether it was. */
  #newer(m: ClusterMembership): boolean {
    const had = this.#memberships.get(m.cluster);
    if (had !== undefined && had.version >= m.version) return false;
    this.#memberships.set(m.cluster, m);
    return true;
  }

  async #listen(): Promise<void> {
    for (const { socket, server } of this.#assigned) {
      if (this.#stopped) return;
      try {
        await listenOnFd(server, socket.fd);
      } catch (err: unknown) {
        this.post({ type: 'listenFailed', listener: socket.listener, slot: socket.slot, message: err instanceof Error ? err.message : String(err) });
        return;
      }
      // The plane counts and logs accept errors ('error' on the server) from here on. A source
      // (its own duplicate of the fd) lets the connection limits pause this handle.
      this.#plane.addListener(socket.listener, server, this.#sourceFor(socket));
    }
    if (!this.#stopped) this.post({ type: 'listening' });
  }

  /** A source for pausing at a cap; null (the handle then never pauses) without the addon or an fd to spare. */
  #sourceFor(socket: WorkerSocket): FdListenSource | null {
    const native = nativeSockets();
    if (native === null) return null;
    try {
      return new FdListenSource(native, native.dupCloexec(socket.fd));
    } catch (err: unknown) {
      this.#log.warn('no duplicate of a listening socket: it will not pause at a connection cap', { listener: socket.listener, slot: socket.slot, error: err });
      return null;
    }
  }

  #stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    // Closes the handles added so far; one still on its way in (#listen) is closed when added.
    this.#plane.stopAccepting();
  }

  #watchIdle(): void {
    if (this.#idleWatched) return;
    this.#idleWatched = true;
    void this.#plane.whenIdle().then(() => this.post({ type: 'idle' }));
  }
}

function throwTestCrash(): never {
  throw new Error('test fault: crash-worker');
}

function prepareFailed(err: unknown): WorkerEvent {
  return { type: 'prepareFailed', code: isProxyctlError(err) ? err.code : null, message: err instanceof Error ? err.message : String(err) };
}

function main(): void {
  const port = parentPort;
  if (port === null) throw new Error('epoch worker: must run as a worker thread');
  const post = (event: WorkerEvent): void => port.postMessage(event);
  let runtime: WorkerRuntime;
  try {
    runtime = new WorkerRuntime(workerData as WorkerInit, post);
  } catch (err: unknown) {
    post(prepareFailed(err));
    return;
  }
  port.on('message', (cmd: WorkerCommand) => runtime.handle(cmd));
  post({ type: 'loaded' });
}

main();
