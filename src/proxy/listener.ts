/**
 * One listener in one worker: accepts connections on its listening sockets (usually one; more
 * when the epoch has more SO_REUSEPORT slots than workers), runs its listener filters, gives
 * each connection a filter chain (filter-chains/), and keeps the set the plane drains and
 * closes. What a connection reads its config from is its chain (`ChainRuntime`); a listener
 * without `filterChains` has only its default chain, its own settings. `bind` swaps them (RCU).
 */
import type { Server, Socket } from 'node:net';
import type { ClusterRuntime } from './upstream/cluster.js';
import type { DownstreamConnection } from './connection-types.js';
import type { HttpTimeouts, ListenerSnapshot } from './types.js';
import { ListenerFilterRun, type ListenerFilterHost } from './listener-filters/index.js';
import { ChainRuntime, type ChainHost } from './filter-chains/chain-runtime.js';
import { connectionFacts } from './filter-chains/facts.js';
import type { ListenerGate } from './limits/gate.js';
import type { ListenerLimits } from './limits/index.js';
import type { ListenSource, Pausable } from './limits/types.js';

/** What a listener needs from its plane. */
export interface ListenerHost {
  readonly clock: { readonly now: number };
  readonly timeouts: HttpTimeouts;
  drainAtForNew(): number;
  drainDeadline(): number;
  connectionClosed(): void;
  /** Listener `name`'s connection-limit gate and accept-error handler; `owner` is paused at a cap. */
  limitsFor(name: string, owner: Pausable): ListenerLimits;
}

export class ListenerRuntime implements ListenerFilterHost, ChainHost, Pausable {
  listener: ListenerSnapshot;
  readonly conns = new Set<DownstreamConnection>();
  /** The listening handles this listener accepts on, in the order they were added (a resume replaces them). */
  readonly servers: Server[] = [];
  /** `sources[i]` makes a new handle for `servers[i]` after a pause; null: that one is never paused. */
  private readonly sources: (ListenSource | null)[] = [];
  private accepting = true;
  private paused = false;
  /** `closed[i]`: a pause closed `servers[i]` and it was not made again yet. */
  private readonly closed: boolean[] = [];
  private closedCount = 0;
  private readonly gate: ListenerGate | null;
  private readonly onAcceptError: (err: Error) => void;
  /** The listener's own settings, or null when it has chains and no default chain. */
  private defaultChain: ChainRuntime | null = null;
  /** One per `listener.filterChains.chains`, same order. */
  private chains: readonly ChainRuntime[] = [];
  private chainNames: readonly string[] = [];

  constructor(
    readonly name: string,
    server: Server,
    private readonly host: ListenerHost,
    listener: ListenerSnapshot,
    clusters: ReadonlyMap<string, ClusterRuntime>,
    source: ListenSource | null,
  ) {
    this.listener = listener;
    this.bind(listener, clusters);
    const limits = host.limitsFor(name, this);
    this.gate = limits.gate;
    this.onAcceptError = limits.onAcceptError;
    this.addServer(server, source);
  }

  /**
   * Accepts on one more listening handle; after `stopAccepting` the handle is closed at once.
   * `source` (or null) lets the connection limits pause it: see limits/types.ts.
   */
  addServer(server: Server, source: ListenSource | null = null): void {
    this.servers.push(server);
    this.sources.push(source);
    server.on('error', this.onAcceptError);
    if (!this.accepting) {
      server.close();
      source?.close();
      return;
    }
    if (this.paused && source !== null) {
      server.close();
      this.closed[this.servers.length - 1] = true;
      this.closedCount++;
    } else server.on('connection', this.onConnection);
  }

  /** A cap was reached (limits/gate.ts): close every handle that can be made again; the queue stays in the kernel. */
  pauseAccepting(): void {
    if (!this.accepting) return;
    this.paused = true;
    this.servers.forEach((server, i) => {
      if (this.sources[i] === null || this.closed[i] === true) return;
      server.off('connection', this.onConnection);
      server.close();
      this.closed[i] = true;
      this.closedCount++;
    });
  }

  resumeAccepting(): void {
    if (!this.accepting || !this.paused) return;
    this.paused = false;
    this.reopen();
  }

  /** The plane's tick: a handle that could not be made again (no fd for its duplicate) is tried again. */
  retryListen(): void {
    if (this.closedCount > 0 && !this.paused && this.accepting) this.reopen();
  }

  private reopen(): void {
    this.sources.forEach((source, i) => {
      if (source === null || this.closed[i] !== true) return;
      let server: Server;
      try {
        server = source.listen();
      } catch (err: unknown) {
        // EMFILE for the duplicate: counted and logged as a refused accept; the tick tries again.
        this.onAcceptError(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      server.on('error', this.onAcceptError);
      server.on('connection', this.onConnection);
      this.servers[i] = server;
      this.closed[i] = false;
      this.closedCount--;
    });
  }

  get timeouts(): HttpTimeouts {
    return this.host.timeouts;
  }

  get clock(): { readonly now: number } {
    return this.host.clock;
  }

  /**
   * Points this listener at a new snapshot. Connections pick it up at their next request: a
   * chain that keeps its name keeps its live connections (it is rebound); those of a chain the
   * snapshot dropped stay on its last settings. New connections choose among the new chains.
   */
  bind(listener: ListenerSnapshot, clusters: ReadonlyMap<string, ClusterRuntime>): void {
    const fc = listener.filterChains;
    if (fc === null || fc.hasDefault) {
      if (this.defaultChain === null) this.defaultChain = new ChainRuntime(this, listener, clusters);
      else this.defaultChain.bind(listener, clusters);
    } else this.defaultChain = null;
    const chains = fc === null ? [] : fc.chains;
    this.chains = chains.map((c) => {
      const kept = this.chains[this.chainNames.indexOf(c.name)];
      if (kept === undefined) return new ChainRuntime(this, c.settings, clusters);
      kept.bind(c.settings, clusters);
      return kept;
    });
    this.chainNames = chains.map((c) => c.name);
    this.listener = listener;
  }

  drainAtForNew(): number {
    return this.host.drainAtForNew();
  }

  drainDeadline(): number {
    return this.host.drainDeadline();
  }

  adopt(conn: DownstreamConnection): void {
    this.conns.add(conn);
  }

  release(conn: DownstreamConnection): void {
    this.conns.delete(conn);
  }

  onClosed(conn: DownstreamConnection): void {
    if (this.conns.delete(conn)) {
      this.listener.stats.cxActive.dec();
      this.gate?.release();
      this.host.connectionClosed();
    }
  }

  handOff(from: DownstreamConnection, to: DownstreamConnection): void {
    if (this.conns.delete(from)) this.conns.add(to);
  }

  refuse(socket: Socket): void {
    this.listener.stats.cxActive.dec();
    this.gate?.release();
    socket.destroy();
    this.host.connectionClosed();
  }

  stopAccepting(): void {
    if (!this.accepting) return;
    this.accepting = false;
    this.gate?.stop();
    for (const server of this.servers) {
      server.off('connection', this.onConnection);
      if (server.listening) server.close();
    }
    for (const source of this.sources) source?.close();
  }

  private readonly onConnection = (socket: Socket): void => {
    if (!this.accepting) {
      socket.destroy();
      return;
    }
    const stats = this.listener.stats;
    stats.cxTotal.inc();
    stats.cxActive.inc();
    this.gate?.acquire();
    const filters = this.listener.listenerFilters;
    // Until the listener filters are done, their run is the connection drain and closeAll see.
    if (filters !== null) this.conns.add(new ListenerFilterRun(socket, filters, this));
    else this.afterListenerFilters(socket, Infinity, false);
  };

  /** The listener filters let `run` through: its socket goes on to its chain. */
  listenerFiltersDone(run: ListenerFilterRun): void {
    this.conns.delete(run);
    this.afterListenerFilters(run.socket, run.drainAt, true);
  }

  private afterListenerFilters(socket: Socket, drainAt: number, paused: boolean): void {
    const chain = this.chainFor(socket);
    if (chain !== null) chain.start(socket, drainAt, paused);
    else this.refuse(socket);
  }

  /** The chain `socket` goes to; null (counted) when none matches and there is no default. */
  private chainFor(socket: Socket): ChainRuntime | null {
    const fc = this.listener.filterChains;
    if (fc === null) return this.defaultChain;
    const i = fc.selector.select(connectionFacts(socket));
    if (i !== null) return this.chains[i] ?? null;
    if (this.defaultChain !== null) return this.defaultChain;
    fc.noMatch.inc();
    return null;
  }
}
