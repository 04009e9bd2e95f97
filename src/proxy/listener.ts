/**
 * One listener in one worker: accepts connections on its listening sockets (usually one; more
 * when the epoch has more SO_REUSEPORT slots than workers), hands each to the network filter of
 * the listener's protocol, and keeps the set the plane drains and closes. It is also the
 * `ConnectionContext` its connections read config from; `bind` swaps that config (RCU).
 */
import type { Server, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { TlsAcceptor, type PendingHandshake, type TlsAcceptorHost } from './tls/termination.js';
import type { AccessLog } from './access-log/index.js';
import type { ClusterRuntime } from './upstream/cluster.js';
import type { ConnectionContext, DownstreamConnection, WorkerRouteTable } from './connection-types.js';
import { buildRouteTable } from './router/table.js';
import { directResponse } from './snapshot.js';
import type { HttpTimeouts, ListenerSnapshot } from './types.js';
import { NETWORK_FILTERS } from './filters/index.js';
import { ListenerFilterRun, type ListenerFilterHost } from './listener-filters/index.js';
import { inheritProxiedAddresses } from './client-address.js';

/** What a listener needs from its plane. */
export interface ListenerHost {
  readonly clock: { readonly now: number };
  readonly timeouts: HttpTimeouts;
  drainAtForNew(): number;
  drainDeadline(): number;
  connectionClosed(): void;
}

export class ListenerRuntime implements ConnectionContext, TlsAcceptorHost, ListenerFilterHost {
  listener: ListenerSnapshot;
  routeTable: WorkerRouteTable | null = null;
  tcpCluster: ClusterRuntime | null = null;
  /** The listener's access log, or null when it has none; swapped with the snapshot. */
  accessLog: AccessLog | null = null;
  readonly conns = new Set<DownstreamConnection>();
  /** The listening handles this listener accepts on, in the order they were added. */
  readonly servers: Server[] = [];
  private accepting = true;
  /** Created with the first TLS connection; handshakes of every snapshot go through it. */
  private tls: TlsAcceptor | null = null;

  constructor(
    readonly name: string,
    server: Server,
    private readonly host: ListenerHost,
    listener: ListenerSnapshot,
    clusters: ReadonlyMap<string, ClusterRuntime>,
  ) {
    this.listener = listener;
    this.bind(listener, clusters);
    this.addServer(server);
  }

  /** Accepts on one more listening handle; after `stopAccepting` the handle is closed at once. */
  addServer(server: Server): void {
    this.servers.push(server);
    if (!this.accepting) {
      server.close();
      return;
    }
    server.on('connection', this.onConnection);
  }

  get timeouts(): HttpTimeouts {
    return this.host.timeouts;
  }

  get clock(): { readonly now: number } {
    return this.host.clock;
  }

  /** Points this listener at a new snapshot; connections pick it up at their next request. */
  bind(listener: ListenerSnapshot, clusters: ReadonlyMap<string, ClusterRuntime>): void {
    if (listener.protocol === 'http') {
      this.routeTable = buildRouteTable(listener.config, { resolveCluster: (name) => mustRuntime(clusters, name), prepareDirect: directResponse });
      this.tcpCluster = null;
    } else {
      this.routeTable = null;
      this.tcpCluster = mustRuntime(clusters, listener.cluster.name);
    }
    this.listener = listener;
    this.accessLog = listener.accessLog;
  }

  drainAtForNew(): number {
    return this.host.drainAtForNew();
  }

  drainDeadline(): number {
    return this.host.drainDeadline();
  }

  onClosed(conn: DownstreamConnection): void {
    if (this.conns.delete(conn)) {
      this.listener.stats.cxActive.dec();
      this.host.connectionClosed();
    }
  }

  handOff(from: DownstreamConnection, to: DownstreamConnection): void {
    if (this.conns.delete(from)) this.conns.add(to);
  }

  stopAccepting(): void {
    if (!this.accepting) return;
    this.accepting = false;
    for (const server of this.servers) {
      server.off('connection', this.onConnection);
      server.close();
    }
  }

  private readonly onConnection = (socket: Socket): void => {
    if (!this.accepting) {
      socket.destroy();
      return;
    }
    const stats = this.listener.stats;
    stats.cxTotal.inc();
    stats.cxActive.inc();
    const filters = this.listener.listenerFilters;
    // Until the listener filters are done, their run is the connection drain and closeAll see.
    if (filters !== null) this.conns.add(new ListenerFilterRun(socket, filters, this));
    else this.afterListenerFilters(socket, Infinity, false);
  };

  /** The listener filters let `run` through: its socket goes on to TLS or the network filter. */
  listenerFiltersDone(run: ListenerFilterRun): void {
    this.conns.delete(run);
    this.afterListenerFilters(run.socket, run.drainAt, true);
  }

  /**
   * `drainAt`: a drain that reached the stand-in before, passed on to what replaces it.
   * `paused`: the run paused the socket (its unread bytes unshifted), to resume once the
   * network filter listens; TLS termination reads those bytes itself.
   */
  private afterListenerFilters(socket: Socket, drainAt: number, paused: boolean): void {
    const tls = this.listener.tls;
    if (tls !== null) {
      // Only a finished handshake reaches the network filter (handshakeDone); until then the
      // pending handshake is the connection drain and closeAll see.
      this.tls ??= new TlsAcceptor(this);
      try {
        const pending = this.tls.accept(socket, tls);
        this.conns.add(pending);
        if (drainAt !== Infinity) pending.drain(drainAt);
      } catch {
        this.listener.stats.cxActive.dec();
        socket.destroy();
      }
      return;
    }
    const conn = this.startFilter(socket);
    if (paused) socket.resume();
    if (conn !== null && drainAt !== Infinity) conn.drain(drainAt);
  }

  /** TLS handshake done: the network filter of the current snapshot takes the TLSSocket. */
  handshakeDone(pending: PendingHandshake, socket: TLSSocket): void {
    this.conns.delete(pending);
    inheritProxiedAddresses(pending.socket, socket);
    const conn = this.startFilter(socket);
    if (conn !== null && pending.drainAt !== Infinity) conn.drain(pending.drainAt);
  }

  private startFilter(socket: Socket): DownstreamConnection | null {
    let conn: DownstreamConnection;
    try {
      conn = NETWORK_FILTERS[this.listener.protocol].accept(socket, this);
    } catch {
      this.listener.stats.cxActive.dec();
      socket.destroy();
      this.host.connectionClosed();
      return null;
    }
    this.conns.add(conn);
    return conn;
  }
}

function mustRuntime(clusters: ReadonlyMap<string, ClusterRuntime>, name: string): ClusterRuntime {
  const c = clusters.get(name);
  if (c === undefined) throw new Error(`listener refers to unknown cluster ${name}`);
  return c;
}
