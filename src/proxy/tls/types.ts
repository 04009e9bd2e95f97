/**
 * TLS in the data plane: what a listener's snapshot holds to terminate TLS, and what a
 * cluster's endpoints hold to originate it. Both are built once per snapshot in the worker
 * thread that uses them (secure contexts are per-thread objects), never per connection.
 */
import type { Server as TlsServer, SecureContext } from 'node:tls';
import type { Counter } from '../../shm/handles.js';

/** `listener.<name>.ssl.*`, with Envoy's names. */
export interface TlsStats {
  /** Handshakes that finished and passed client-certificate checks; the socket went on to the network filter. */
  readonly handshake: Counter;
  /** Handshakes that failed, timed out or were cut (client gone, drain deadline), not counting verification failures. */
  readonly connectionError: Counter;
  /** A client certificate was required and the client sent none. */
  readonly failVerifyNoCert: Counter;
  /** The client's certificate did not verify against `clientCertificate.caFile`. */
  readonly failVerifyError: Counter;
  /** Finished handshakes in which the client sent no certificate. */
  readonly noCertificate: Counter;
}

/** How a listener treats client certificates. */
export type ClientCertMode = 'none' | 'optional' | 'required';

export interface ListenerTlsSnapshot {
  /**
   * ALPN protocols offered, in preference order (empty: no ALPN). After the handshake the
   * socket's `alpnProtocol` says which one the client took (false when none).
   */
  readonly alpn: readonly string[];
  readonly clientCert: ClientCertMode;
  readonly handshakeTimeoutMs: number;
  /**
   * A `tls.Server` that never listens: the listener hands it each accepted socket
   * (`emit('connection')`), and it runs the handshake with Node's own checks (SNI callback,
   * ALPN, client-certificate verification, handshake timeout).
   */
  readonly server: TlsServer;
  readonly stats: TlsStats;
}

export interface UpstreamTlsSnapshot {
  /** Identifies these settings; part of the pool key so a pool never mixes TLS settings. */
  readonly id: number;
  readonly context: SecureContext;
  /** Sent as SNI and checked against the certificate; null: none sent, the IP is checked. */
  readonly sni: string | null;
  readonly verify: boolean;
}
