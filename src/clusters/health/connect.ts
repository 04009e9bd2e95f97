/**
 * Opens a check's socket to a host the way the data plane reaches it: plain TCP, or TLS with
 * the cluster's settings (the same client options the workers use, from snapshot-tls.ts), and
 * names what went wrong when it fails.
 */
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { upstreamTlsOptions } from '../../proxy/tls/snapshot-tls.js';
import type { UpstreamTlsSnapshot } from '../../proxy/tls/types.js';
import type { CheckTarget } from '../types.js';
import type { CheckOutcome } from './types.js';

/** A check's connection, and the phase it reached (to tell a TLS failure from a TCP one). */
export class CheckSocket {
  readonly socket: Socket;
  /** Emitted once the connection can carry the check: `connect`, or `secureConnect` with TLS. */
  readonly readyEvent: 'connect' | 'secureConnect';
  private tcpUp = false;
  private secured = false;

  constructor(target: CheckTarget, tls: UpstreamTlsSnapshot | null) {
    this.socket = tls === null ? connect({ host: target.host, port: target.port, noDelay: true }) : tlsConnect(upstreamTlsOptions(tls, target.host, target.port));
    this.readyEvent = tls === null ? 'connect' : 'secureConnect';
    this.socket.once('connect', this.onTcp);
    if (tls !== null) this.socket.once('secureConnect', this.onSecure);
  }

  private readonly onTcp = (): void => {
    this.tcpUp = true;
  };

  private readonly onSecure = (): void => {
    this.secured = true;
  };

  /** The outcome of a check that ended with `err` on this socket (every such failure is a network one). */
  failure(err: unknown): CheckOutcome {
    const code = err instanceof Error ? (err as NodeJS.ErrnoException).code : undefined;
    let reason: string;
    if (code === 'ECONNREFUSED') reason = 'refused';
    else if (code === 'ECONNRESET' || code === 'EPIPE') reason = 'reset';
    // Connected over TCP but never secured: the handshake or the certificate failed.
    else if (this.tcpUp && this.readyEvent === 'secureConnect' && !this.secured) reason = 'tls';
    else reason = code === undefined ? 'error' : code.toLowerCase();
    return failure(reason, true);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

export function failure(reason: string, network: boolean): CheckOutcome {
  return { pass: false, degraded: false, network, reason };
}
