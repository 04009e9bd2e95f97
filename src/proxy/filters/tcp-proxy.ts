/**
 * Network filter `tcp_proxy` (L4): each downstream connection gets one upstream connection to
 * the next endpoint of the cluster; bytes are piped both ways with backpressure, and a FIN in
 * one direction is passed on as a FIN (half-close) without closing the other direction.
 * Per-connection handlers are fine here: there is no per-request work at L4.
 *
 * With an access log, one line per connection when the downstream socket closes: bytes both
 * ways, duration, the upstream host, and `UF` in %RESPONSE_FLAGS% when the upstream could not
 * be connected to.
 */
import type { Socket } from 'node:net';
import { nextConnectionId, type AccessLog, type AccessLogEntry } from '../access-log/index.js';
import type { ConnectionContext, DownstreamConnection, NetworkFilterFactory } from '../connection-types.js';
import type { StreamInfo } from '../http/filter.js';
import { connectUpstream, failedLocally } from '../upstream/connect.js';
import { clientAddress, clientPort, localAddress, localPort } from '../client-address.js';
import { inspectedHello } from '../listener-filters/index.js';
import { requestedServerName } from '../tls/termination.js';
import type { ClusterRuntime } from '../upstream/cluster.js';
import type { TcpListenerSnapshot } from '../types.js';
import { HostSlot } from '../../clusters/types.js';
import { hash32 } from '../lb/index.js';
import { LOCAL_CONNECT_FAILURE } from '../upstream/outlier-record.js';

export class TcpProxyConnection implements DownstreamConnection {
  /** TCP has no in-band way to ask for a close: the drain deadline closes it by force. */
  readonly forcedAtDrainDeadline = true;
  /** Null when the cluster had no host to give (the connection was closed at once, flag `UH`). */
  private readonly upstream: Socket | null;
  private connected = false;
  /** Null unless the listener logs: then what its line needs. */
  private readonly logged: TcpLogState | null;
  /** The coarse clock at the last byte either way (or the accept). */
  private lastActive: number;

  constructor(
    readonly socket: Socket,
    cluster: ClusterRuntime,
    private readonly ctx: ConnectionContext,
  ) {
    this.lastActive = ctx.clock.now;
    const hashOn = cluster.snapshot.balancing.hashOn;
    // Only the source address can be hashed at L4; a header or cookie policy picks at random.
    const pool = cluster.pick(hashOn !== null && 'sourceIp' in hashOn ? hash32(clientAddress(socket)) : -1, null);
    const accessLog = ctx.listener.accessLog;
    this.logged = accessLog === null ? null : startLogState(accessLog, socket, ctx.listener.name, cluster.snapshot.name, pool === null ? '' : pool.endpoint.key);
    if (pool === null) {
      cluster.snapshot.stats.cxNoneHealthy.inc();
      if (this.logged !== null) this.logged.info.responseFlags = 'UH';
      this.upstream = null;
      socket.on('close', () => this.closed(socket));
      socket.destroy(); // no host may take it: nothing can be said in-band at L4
      return;
    }
    const stats = pool.stats;
    const counters = pool.counters;
    Atomics.add(counters, HostSlot.ACTIVE, 1);
    stats.cxTotal.inc();
    stats.cxActive.inc();
    const ds = socket;
    ds.allowHalfOpen = true;
    ds.setNoDelay(true);
    const us = connectUpstream(pool.endpoint, pool.endpoint.tls, stats, true);
    this.upstream = us;
    us.on('connect', () => {
      this.connected = true;
      cluster.outcome(pool, 200); // a connection made is a success to outlier detection
    });
    ds.on('data', (d: Buffer) => {
      this.lastActive = ctx.clock.now;
      if (!us.write(d)) ds.pause();
    });
    us.on('drain', () => ds.resume());
    us.on('data', (d: Buffer) => {
      this.lastActive = ctx.clock.now;
      if (!ds.write(d)) us.pause();
    });
    ds.on('drain', () => us.resume());
    ds.on('end', () => endOnce(us));
    us.on('end', () => endOnce(ds));
    ds.on('error', ignoreError);
    us.on('error', ignoreError);
    us.on('close', (hadError: boolean) => {
      stats.cxActive.dec();
      Atomics.sub(counters, HostSlot.ACTIVE, 1);
      if (!this.connected) {
        stats.cxConnectFail.inc();
        if (!failedLocally(us)) cluster.outcome(pool, LOCAL_CONNECT_FAILURE);
        if (this.logged !== null) this.logged.info.responseFlags = 'UF';
        ds.destroy();
      } else if (hadError) ds.destroy();
      else endOnce(ds);
    });
    ds.on('close', (hadError: boolean) => {
      if (hadError) us.destroy();
      else endOnce(us);
      this.closed(ds);
    });
  }

  /** No byte either way for `tcpIdle`: both sides are closed, counted as `tcp.<listener>.idle_timeout`. */
  onTick(now: number): void {
    if (now - this.lastActive < this.ctx.timeouts.tcpIdleMs || this.socket.destroyed) return;
    (this.ctx.listener as TcpListenerSnapshot).idleTimeout.inc();
    this.destroy();
  }

  /** Nothing to say in-band: the connection goes on until the drain deadline (see forcedAtDrainDeadline). */
  drain(): void {}

  closeIfIdle(): boolean {
    return false;
  }

  private closed(ds: Socket): void {
    if (this.logged !== null) logClosed(this.logged, ds);
    this.ctx.onClosed(this);
  }

  destroy(): void {
    this.upstream?.destroy();
    this.socket.destroy();
  }
}

function ignoreError(): void {}

interface TcpLogState {
  readonly log: AccessLog;
  readonly info: StreamInfo;
  readonly connectionId: number;
}

function startLogState(log: AccessLog, s: Socket, listenerName: string, clusterName: string, upstreamHost: string): TcpLogState {
  const info: StreamInfo = {
    listenerName,
    protocol: '',
    downstreamRemoteAddress: clientAddress(s),
    downstreamRemotePort: clientPort(s),
    downstreamLocalAddress: localAddress(s),
    downstreamLocalPort: localPort(s),
    // TLS passed through: the name the TLS inspector read; terminated here: the handshake's.
    requestedServerName: inspectedHello(s)?.serverName ?? requestedServerName(s) ?? '',
    startTime: Date.now(),
    startMonotonic: performance.now(),
    requestId: '',
    routeName: '',
    clusterName,
    upstreamHost,
    responseFlags: '',
  };
  return { log, info, connectionId: nextConnectionId() };
}

function logClosed(state: TcpLogState, ds: Socket): void {
  const entry: AccessLogEntry = {
    streamInfo: state.info,
    request: null,
    response: null,
    status: 0,
    bytesReceived: ds.bytesRead,
    bytesSent: ds.bytesWritten,
    durationMs: performance.now() - state.info.startMonotonic,
    connectionId: state.connectionId,
  };
  state.log.log(entry);
}

/**
 * Half-closes `s` unless it is already ended or gone. A second `end()` is not free: Node
 * builds an ERR_STREAM_WRITE_AFTER_END / ALREADY_FINISHED error (stack trace included) and
 * emits it to the ignored 'error' listener. Each connection ends each side from 'end' and again
 * from the other side's 'close': 8.3 % of the worker's self time in `NodeError` at 3.6k new
 * connections/s (L4, wrk -c50 `Connection: close`).
 */
function endOnce(s: Socket): void {
  if (!s.writableEnded && !s.destroyed) s.end();
}

export const tcpProxy: NetworkFilterFactory = {
  name: 'tcp_proxy',
  protocol: 'tcp',
  accept: (socket, ctx) => new TcpProxyConnection(socket, ctx.tcpCluster as ClusterRuntime, ctx),
};
