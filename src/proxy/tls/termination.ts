/**
 * TLS termination in front of a listener's network filter. An accepted socket is handed to
 * the snapshot's `tls.Server` (`emit('connection')`), which runs the handshake with Node's
 * own logic: SNI callback, ALPN, client-certificate verification, handshake timeout. Until
 * the handshake is done the connection is a `PendingHandshake` in the listener's set, so
 * drain, `hurry` and `closeAll` reach it like any other; once it is done, the listener swaps
 * it for the network filter's connection on the `TLSSocket`.
 *
 * `tls.Server` hands back the `TLSSocket` it made for a raw socket but not the raw socket, so
 * the two are paired by the peer's address and port: for TCP connections accepted on one
 * address and port, those are unique among the live ones.
 *
 * What the client sent is on the `TLSSocket` the network filter gets: `servername` (the SNI
 * name, for access logs' `requestedServerName`; see `requestedServerName`) and `alpnProtocol`.
 */
import type { Socket } from 'node:net';
import { TLSSocket, type Server as TlsServer } from 'node:tls';
import type { DownstreamConnection } from '../connection-types.js';
import type { ListenerTlsSnapshot } from './types.js';

/** What the acceptor needs from its listener. */
export interface TlsAcceptorHost {
  /** The handshake of `pending` is done: replace it with a connection on `socket`. */
  handshakeDone(pending: PendingHandshake, socket: TLSSocket): void;
  /** `pending` closed without finishing its handshake. */
  onClosed(conn: DownstreamConnection): void;
}

/** A connection whose TLS handshake is still running. Nothing to ask in-band: it is closed at the drain deadline. */
export class PendingHandshake implements DownstreamConnection {
  /** The earliest `drain(at)` received; passed on to the connection that replaces this one. */
  drainAt = Infinity;
  handedOff = false;

  constructor(
    /** The accepted TCP socket (the `TLSSocket` wraps it; destroying it ends the handshake). */
    readonly socket: Socket,
    readonly key: string,
    private readonly acceptor: TlsAcceptor,
  ) {}

  /** The handshake timeout is the `tls.Server`'s (`handshakeTimeout`), not the tick's. */
  onTick(): void {}

  drain(at: number): void {
    if (at < this.drainAt) this.drainAt = at;
  }

  /** No request can be in flight yet: at the drain deadline (or a `hurry`) it is closed. */
  closeIfIdle(): boolean {
    this.destroy();
    return true;
  }

  destroy(): void {
    this.socket.destroy();
  }

  readonly onRawClose = (): void => {
    this.acceptor.forget(this);
  };
}

export class TlsAcceptor {
  private readonly pending = new Map<string, PendingHandshake>();
  /** Servers (one per snapshot) whose events are wired to this acceptor. */
  private readonly wired = new WeakSet<TlsServer>();

  constructor(private readonly host: TlsAcceptorHost) {}

  /** Starts the handshake on `socket`; the returned connection stands for it until then. */
  accept(socket: Socket, tls: ListenerTlsSnapshot): PendingHandshake {
    this.wire(tls);
    const key = peerKey(socket);
    const p = new PendingHandshake(socket, key, this);
    // A stale entry under the same key belongs to a socket already gone (its 'close' is on its way).
    this.pending.set(key, p);
    socket.on('error', ignoreError); // the TLSSocket reports; 'close' follows
    socket.on('close', p.onRawClose);
    tls.server.emit('connection', socket);
    return p;
  }

  forget(p: PendingHandshake): void {
    if (this.pending.get(p.key) === p) this.pending.delete(p.key);
    if (!p.handedOff) this.host.onClosed(p);
  }

  private wire(tls: ListenerTlsSnapshot): void {
    if (this.wired.has(tls.server)) return;
    this.wired.add(tls.server);
    tls.server.on('secureConnection', (s: TLSSocket) => this.onSecure(s, tls));
    tls.server.on('tlsClientError', (err: Error, s: TLSSocket) => onHandshakeError(err, s, tls));
  }

  private onSecure(socket: TLSSocket, tls: ListenerTlsSnapshot): void {
    const key = peerKey(socket);
    const p = this.pending.get(key);
    if (p === undefined || p.handedOff) {
      tls.stats.connectionError.inc();
      socket.destroy();
      return;
    }
    const sentCert = tls.clientCert !== 'none' && socket.getPeerX509Certificate() !== undefined;
    if (sentCert && !socket.authorized) {
      // `optional`: a certificate was sent and does not verify (`required`: Node refused it already).
      tls.stats.failVerifyError.inc();
      socket.destroy();
      return;
    }
    if (!sentCert) tls.stats.noCertificate.inc();
    tls.stats.handshake.inc();
    this.pending.delete(key);
    p.handedOff = true;
    this.host.handshakeDone(p, socket);
  }
}

/** The SNI name the client sent on a TLS-terminated connection's socket, or null (plain TCP, or no SNI). */
export function requestedServerName(socket: Socket): string | null {
  return socket instanceof TLSSocket && typeof socket.servername === 'string' && socket.servername !== '' ? socket.servername : null;
}

/** Counts why a handshake failed and closes it. */
function onHandshakeError(err: Error, socket: TLSSocket, tls: ListenerTlsSnapshot): void {
  if (socket.authorizationError !== null && socket.authorizationError !== undefined) tls.stats.failVerifyError.inc();
  else if ((err as NodeJS.ErrnoException).code === 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE') tls.stats.failVerifyNoCert.inc();
  else tls.stats.connectionError.inc();
  socket.destroy();
}

function peerKey(socket: Socket): string {
  return `${socket.remoteAddress}|${socket.remotePort}`;
}

function ignoreError(): void {}
