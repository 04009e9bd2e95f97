/**
 * One filter chain of a listener in one worker (the listener's own settings, its default
 * chain, are one too): the `ConnectionContext` its connections read config from, TLS
 * termination with the chain's certificates, and the hand-off to the network filter. `bind`
 * swaps the chain's config (RCU), as a listener without chains swaps its own.
 */
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { ConnectionContext, DownstreamConnection, WorkerRouteTable } from '../connection-types.js';
import { inheritProxiedAddresses } from '../client-address.js';
import { NETWORK_FILTERS } from '../filters/index.js';
import { buildRouteTable } from '../router/table.js';
import { directResponse } from '../snapshot.js';
import { TlsAcceptor, type PendingHandshake, type TlsAcceptorHost } from '../tls/termination.js';
import type { HttpTimeouts, ListenerSnapshot } from '../types.js';
import { resolveTimeouts } from '../timeouts.js';
import type { ClusterRuntime } from '../upstream/cluster.js';

/** What a chain needs from its listener, which keeps the set of connections. */
export interface ChainHost {
  readonly clock: { readonly now: number };
  readonly timeouts: HttpTimeouts;
  drainAtForNew(): number;
  drainDeadline(): number;
  /** From now on `conn` is one of the listener's connections. */
  adopt(conn: DownstreamConnection): void;
  onClosed(conn: DownstreamConnection): void;
  handOff(from: DownstreamConnection, to: DownstreamConnection): void;
  /** `conn` no longer stands for its connection, which goes on (or is refused) without it. */
  release(conn: DownstreamConnection): void;
  /** `socket` could not be started (TLS or the network filter threw): destroy it and stop counting it. */
  refuse(socket: Socket): void;
}

export class ChainRuntime implements ConnectionContext, TlsAcceptorHost {
  listener: ListenerSnapshot;
  routeTable: WorkerRouteTable | null = null;
  tcpCluster: ClusterRuntime | null = null;
  /** The plane's timeouts with the listener's own on top, resolved at each bind (RCU, as the routes). */
  timeouts: HttpTimeouts;
  /** Created with the chain's first TLS connection; handshakes of every snapshot go through it. */
  private tls: TlsAcceptor | null = null;

  constructor(
    private readonly host: ChainHost,
    listener: ListenerSnapshot,
    clusters: ReadonlyMap<string, ClusterRuntime>,
  ) {
    this.listener = listener;
    this.timeouts = host.timeouts;
    this.bind(listener, clusters);
  }

  /** Points this chain at new settings; its connections pick them up at their next request. */
  bind(listener: ListenerSnapshot, clusters: ReadonlyMap<string, ClusterRuntime>): void {
    if (listener.protocol === 'http') {
      this.routeTable = buildRouteTable(listener.config, { resolveCluster: (name) => mustRuntime(clusters, name), prepareDirect: directResponse });
      this.tcpCluster = null;
    } else {
      this.routeTable = null;
      this.tcpCluster = listener.cluster === null ? null : mustRuntime(clusters, listener.cluster.name);
    }
    this.timeouts = resolveTimeouts(this.host.timeouts, listener.timeouts);
    this.listener = listener;
  }

  get clock(): { readonly now: number } {
    return this.host.clock;
  }

  drainAtForNew(): number {
    return this.host.drainAtForNew();
  }

  drainDeadline(): number {
    return this.host.drainDeadline();
  }

  onClosed(conn: DownstreamConnection): void {
    this.host.onClosed(conn);
  }

  handOff(from: DownstreamConnection, to: DownstreamConnection): void {
    this.host.handOff(from, to);
  }

  /**
   * A connection got this chain. `drainAt`: a drain that reached the listener filters' stand-in,
   * passed on. `paused`: the listener filters paused the socket (their unread bytes unshifted),
   * to resume once the network filter listens; TLS termination reads those bytes itself.
   */
  start(socket: Socket, drainAt: number, paused: boolean): void {
    const tls = this.listener.tls;
    if (tls !== null) {
      // Only a finished handshake reaches the network filter (handshakeDone); until then the
      // pending handshake is the connection drain and closeAll see.
      this.tls ??= new TlsAcceptor(this);
      try {
        const pending = this.tls.accept(socket, tls);
        this.host.adopt(pending);
        if (drainAt !== Infinity) pending.drain(drainAt);
      } catch {
        this.host.refuse(socket);
      }
      return;
    }
    const conn = this.startFilter(socket);
    if (paused) socket.resume();
    if (conn !== null && drainAt !== Infinity) conn.drain(drainAt);
  }

  /** TLS handshake done: the network filter of the current snapshot takes the TLSSocket. */
  handshakeDone(pending: PendingHandshake, socket: TLSSocket): void {
    inheritProxiedAddresses(pending.socket, socket);
    const conn = this.startFilter(socket, pending);
    if (conn !== null && pending.drainAt !== Infinity) conn.drain(pending.drainAt);
  }

  /** `replaces`: the pending handshake the new connection stands in for. */
  private startFilter(socket: Socket, replaces: DownstreamConnection | null = null): DownstreamConnection | null {
    let conn: DownstreamConnection;
    try {
      conn = NETWORK_FILTERS[this.listener.protocol].accept(socket, this);
    } catch {
      if (replaces !== null) this.host.release(replaces);
      this.host.refuse(socket);
      return null;
    }
    if (replaces !== null) this.host.handOff(replaces, conn);
    else this.host.adopt(conn);
    return conn;
  }
}

function mustRuntime(clusters: ReadonlyMap<string, ClusterRuntime>, name: string): ClusterRuntime {
  const c = clusters.get(name);
  if (c === undefined) throw new Error(`listener refers to unknown cluster ${name}`);
  return c;
}
