/**
 * The run-time contracts of a downstream connection: what the listener gives it (its context,
 * with routes bound to this worker's cluster runtimes), what it gives the listener back, and the
 * network filter seam that turns an accepted socket into one.
 */
import type { Socket } from 'node:net';
import type { ListenerProtocol } from '../config/types.js';
import type { DirectResponseSnapshot, HttpTimeouts, ListenerSnapshot } from './types.js';
import type { RouteTable } from './router/types.js';
import type { ClusterRuntime } from './upstream/cluster.js';

/**
 * One accepted downstream connection, whatever its protocol. The listener keeps a set of these
 * and the plane drives drain and shutdown through this interface only.
 */
export interface DownstreamConnection {
  readonly socket: Socket;
  /** Called on every plane tick (coarse clock, ms) so the connection can apply its timeouts. */
  onTick(now: number): void;
  /** The drain started: `at` is when this connection should start closing (wall-clock ms). */
  drain(at: number): void;
  /** The drain deadline passed: close if nothing is in flight. Returns true if it started closing. */
  closeIfIdle(): boolean;
  /**
   * True for protocols with no in-band way to end a connection (TCP): at the drain deadline of a
   * `forceAtDeadline` drain the plane destroys them and counts each as
   * `downstream_cx_drain_forced`. Absent (HTTP): a connection with an exchange in flight
   * finishes it, up to the caller's `closeAll`.
   */
  readonly forcedAtDrainDeadline?: boolean;
  /** Destroys the socket at once (and any upstream it holds). */
  destroy(): void;
}

/** A listener's routes as a worker runs them: clusters bound to its runtimes, direct responses pre-built. */
export type WorkerRouteTable = RouteTable<ClusterRuntime, DirectResponseSnapshot>;

/**
 * What a connection reads its config from: its listener. The listener's fields are swapped as
 * a whole when a snapshot is applied (RCU); HTTP connections read `routeTable` once per request,
 * so a new snapshot applies from the next request on, and an exchange in flight finishes on
 * the routes it started with.
 */
export interface ConnectionContext {
  readonly listener: ListenerSnapshot;
  /** HTTP listeners: the compiled routes. Null for TCP. */
  readonly routeTable: WorkerRouteTable | null;
  /** TCP listeners: the cluster. Null for HTTP. */
  readonly tcpCluster: ClusterRuntime | null;
  readonly timeouts: HttpTimeouts;
  /** Coarse clock (ms, `Date.now()` scale), refreshed each plane tick. */
  readonly clock: { readonly now: number };
  /** When a connection accepted now should start closing: Infinity unless draining. */
  drainAtForNew(): number;
  /** Wall-clock ms of the drain deadline: Infinity unless draining. Past it, idle connections close. */
  drainDeadline(): number;
  /** Called once when the connection's socket has closed. */
  onClosed(conn: DownstreamConnection): void;
  /** `from` became `to` (a protocol was detected): same socket, same place in the listener's set. */
  handOff(from: DownstreamConnection, to: DownstreamConnection): void;
}

/** A network filter: turns an accepted socket into a connection. One file per filter. */
export interface NetworkFilterFactory {
  readonly name: string;
  readonly protocol: ListenerProtocol;
  accept(socket: Socket, ctx: ConnectionContext): DownstreamConnection;
}
