/**
 * Opens the socket to one upstream endpoint: plain TCP, or TLS with the cluster's settings.
 * The HTTP upstream and the TCP proxy both open their sockets here.
 *
 * A caller counts `upstream_cx_connect_fail` when its socket closes before 'connect'. With
 * TLS, 'connect' comes with the TCP connection, before the handshake; a handshake or
 * verification that fails after it is counted here, so each failure is counted once. The
 * socket then closes with an error before any response: the HTTP side answers 503.
 *
 * A connect that fails because this process is out of fds (EMFILE, ENFILE: the socket could
 * not even be made) is also counted as `upstream_cx_connect_fd_exhausted`: it is the proxy's
 * limit, not the endpoint's fault, and the fix is RLIMIT_NOFILE or `limits.maxConnections`.
 * Such a socket is remembered (`failedLocally`) so outlier detection does not eject a healthy
 * host for it.
 */
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { ClusterStats, EndpointSnapshot } from '../types.js';
import { upstreamTlsOptions } from '../tls/snapshot-tls.js';
import type { UpstreamTlsSnapshot } from '../tls/types.js';
import { errnoCode } from '../../errors.js';

/** `alpn`: the protocols offered in the TLS handshake (HTTP/2 clusters offer `h2`); null offers none. */
export function connectUpstream(endpoint: EndpointSnapshot, tls: UpstreamTlsSnapshot | null, stats: ClusterStats, allowHalfOpen = false, alpn: string[] | null = null): Socket {
  if (tls === null) {
    const socket = connect({ host: endpoint.host, port: endpoint.port, noDelay: true, allowHalfOpen });
    new FdExhaustionWatch(socket, stats);
    return socket;
  }
  const options = upstreamTlsOptions(tls, endpoint.host, endpoint.port);
  const socket = tlsConnect(alpn === null ? options : { ...options, ALPNProtocols: alpn });
  // tls.connect has no typed option for either; as the TCP proxy does downstream, set them on the socket.
  socket.allowHalfOpen = allowHalfOpen;
  socket.setNoDelay(true);
  new HandshakeWatch(socket, stats);
  new FdExhaustionWatch(socket, stats);
  return socket;
}

const fdStarved = new WeakSet<Socket>();

/** The socket's connect failed for want of a file descriptor in this process, not because of its host. */
export function failedLocally(socket: Socket): boolean {
  return fdStarved.has(socket);
}

/** Counts a connect that failed for want of a file descriptor in this process. */
class FdExhaustionWatch {
  constructor(
    private readonly socket: Socket,
    private readonly stats: ClusterStats,
  ) {
    socket.once('error', this.onError);
  }

  private readonly onError = (err: Error): void => {
    const code = errnoCode(err);
    if (code !== 'EMFILE' && code !== 'ENFILE') return;
    this.stats.cxConnectFdExhausted.inc();
    fdStarved.add(this.socket);
  };
}

/** Counts a TLS upstream that connected over TCP but closed before its handshake finished. */
class HandshakeWatch {
  private tcp = false;
  private secure = false;

  constructor(
    socket: Socket,
    private readonly stats: ClusterStats,
  ) {
    socket.once('connect', this.onConnect);
    socket.once('secureConnect', this.onSecure);
    socket.once('close', this.onClose);
  }

  private readonly onConnect = (): void => {
    this.tcp = true;
  };

  private readonly onSecure = (): void => {
    this.secure = true;
  };

  private readonly onClose = (): void => {
    if (this.tcp && !this.secure) this.stats.cxConnectFail.inc();
  };
}
