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

/** What a listener needs from its plane. */
export interface ListenerHost {
  readonly clock: { readonly now: number };
  readonly timeouts: HttpTimeouts;
  drainAtForNew(): number;
  drainDeadline(): number;
  connectionClosed(): void;
}

export class ListenerRuntime implements ConnectionContext, TlsAcceptorHost {
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
    const tls = this.listener.tls;
    if (tls !== null) {
      // Only a finished handshake reaches the network filter (handshakeDone); until then the
      // pending handshake is the connection drain and closeAll see.
      this.tls ??= new TlsAcceptor(this);
      try {
        this.conns.add(this.tls.accept(socket, tls));
      } catch {
        stats.cxActive.dec();
        socket.destroy();
      }
      return;
    }
    this.startFilter(socket);
  };

  /** TLS handshake done: the network filter of the current snapshot takes the TLSSocket. */
  handshakeDone(pending: PendingHandshake, socket: TLSSocket): void {
    this.conns.delete(pending);
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
