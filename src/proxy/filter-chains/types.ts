/**
 * Filter chain selection: after the listener filters, each connection is given one of its
 * listener's filter chains (or the listener's own settings, the default chain) from what is
 * known about it then. This file holds the contract; select.ts the rule.
 */

/** What a listener knows about a connection when it chooses its chain. */
export interface ConnectionFacts {
  /** The port the client connected to: the PROXY header's destination, else the socket's. */
  readonly destinationPort: number;
  /** The client's address as bytes (4: IPv4, also for IPv4-mapped IPv6; 16: IPv6); null if unknown. */
  readonly source: Uint8Array | null;
  /** From the TLS inspector: the SNI name, lower case; null without one. */
  readonly serverName: string | null;
  /** From the TLS inspector: the protocols offered; empty without any. */
  readonly alpn: readonly string[];
  /** `tls` when the inspector found a ClientHello. */
  readonly transport: 'tls' | 'raw';
}

/** Chooses among a listener's chains; built once per snapshot. */
export interface ChainSelector<T> {
  /** The most specific chain that matches `facts`, or null when none does. */
  select(facts: ConnectionFacts): T | null;
}
