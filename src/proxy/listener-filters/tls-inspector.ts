/**
 * Listener filter `tls_inspector`: peeks at the client's first bytes and, when they are a TLS
 * ClientHello, records its SNI name and ALPN list against the socket for filter chain
 * selection (filter-chains/). It consumes nothing: TLS termination, or a `tcp_proxy` passing
 * the TLS through, reads the same bytes afterwards. Bytes that are not TLS (or a hello that
 * does not parse) go on as plaintext, with nothing recorded; a hello past the read bound
 * closes the connection.
 *
 * Stats, `listener.<name>.tls_inspector.` (Envoy's names): `tls_found`, `tls_not_found`,
 * `sni_found`, `sni_not_found`, `alpn_found`, `alpn_not_found`, `client_hello_too_large`, and
 * `timeout` (no verdict within `timeoutMs`).
 */
import type { Socket } from 'node:net';
import type { TlsInspectorConfig } from '../../config/types.js';
import type { Counter } from '../../shm/handles.js';
import type { StatsStore } from '../../shm/types.js';
import { parseClientHello } from './tls-inspector-parser.js';
import { ListenerFilterStatus, type ListenerFilter, type ListenerFilterVerdict } from './types.js';

const NEED_MORE: ListenerFilterVerdict = { status: ListenerFilterStatus.NeedMoreData };
const CLOSE: ListenerFilterVerdict = { status: ListenerFilterStatus.Close };
const PASS: ListenerFilterVerdict = { status: ListenerFilterStatus.Continue, consumed: 0 };

/** What the inspector saw in a connection's ClientHello. */
export interface InspectedHello {
  /** Lower case, no trailing dot; null when the client sent none. */
  readonly serverName: string | null;
  /** The protocols the client offered, in its order; empty when none. */
  readonly alpn: readonly string[];
}

// Keyed by the accepted socket, like client-address.ts: an entry lives as long as its socket.
const hellos = new WeakMap<Socket, InspectedHello>();

/** The ClientHello the inspector found on `socket`, or null (no inspector, or not TLS). */
export function inspectedHello(socket: Socket): InspectedHello | null {
  return hellos.get(socket) ?? null;
}

export interface TlsInspectorStats {
  readonly tlsFound: Counter;
  readonly tlsNotFound: Counter;
  readonly sniFound: Counter;
  readonly sniNotFound: Counter;
  readonly alpnFound: Counter;
  readonly alpnNotFound: Counter;
  readonly clientHelloTooLarge: Counter;
  readonly timeout: Counter;
}

export function tlsInspectorStats(listener: string, stats: StatsStore): TlsInspectorStats {
  const p = `listener.${listener}.tls_inspector.`;
  return {
    tlsFound: stats.counter(`${p}tls_found`),
    tlsNotFound: stats.counter(`${p}tls_not_found`),
    sniFound: stats.counter(`${p}sni_found`),
    sniNotFound: stats.counter(`${p}sni_not_found`),
    alpnFound: stats.counter(`${p}alpn_found`),
    alpnNotFound: stats.counter(`${p}alpn_not_found`),
    clientHelloTooLarge: stats.counter(`${p}client_hello_too_large`),
    timeout: stats.counter(`${p}timeout`),
  };
}

export class TlsInspectorFilter implements ListenerFilter {
  readonly name = 'tls_inspector';
  readonly timeoutMs: number;

  constructor(
    config: TlsInspectorConfig,
    private readonly stats: TlsInspectorStats,
  ) {
    this.timeoutMs = config.timeoutMs;
  }

  onData(buf: Buffer, socket: Socket): ListenerFilterVerdict {
    const r = parseClientHello(buf);
    switch (r.kind) {
      case 'incomplete':
        return NEED_MORE;
      case 'too-large':
        this.stats.clientHelloTooLarge.inc();
        return CLOSE;
      case 'not-tls':
      case 'malformed':
        this.stats.tlsNotFound.inc();
        return PASS;
      case 'hello':
        this.stats.tlsFound.inc();
        (r.serverName === null ? this.stats.sniNotFound : this.stats.sniFound).inc();
        (r.alpn.length === 0 ? this.stats.alpnNotFound : this.stats.alpnFound).inc();
        hellos.set(socket, r);
        return PASS;
    }
  }

  timedOut(): void {
    this.stats.timeout.inc();
  }
}
