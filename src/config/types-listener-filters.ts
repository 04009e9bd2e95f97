/**
 * Listener filters (proxyctl.yaml(5), `listeners[].listenerFilters`): they run on an accepted
 * socket before TLS termination and before the network filter, in the order listed. Present
 * on a listener only when its file lists at least one.
 */

/** One entry of `listenerFilters`: exactly one kind of filter per entry. */
export type ListenerFilterConfig = ProxyProtocolFilterConfig | TlsInspectorFilterConfig;

export interface ProxyProtocolFilterConfig {
  readonly proxyProtocol: ProxyProtocolConfig;
}

/** HAProxy's PROXY protocol: the client address arrives in a header before the first byte of the stream. */
export interface ProxyProtocolConfig {
  /** Accept the text form (`PROXY TCP4 ...\r\n`). Default true. */
  readonly allowV1: boolean;
  /** Accept the binary form (12-byte signature). Default true. At least one of the two is true. */
  readonly allowV2: boolean;
  /** A connection without a header is closed. Default true; false lets it through unchanged. */
  readonly required: boolean;
  /** The whole header must arrive within this; otherwise the connection is closed. Default 3 s. */
  readonly timeoutMs: number;
}

export interface TlsInspectorFilterConfig {
  readonly tlsInspector: TlsInspectorConfig;
}

/**
 * Reads the SNI name and ALPN list of a TLS ClientHello without consuming it, for filter
 * chain selection (`filterChains[].match`). Plaintext goes on with nothing learned.
 */
export interface TlsInspectorConfig {
  /** The ClientHello (or a first byte that is not TLS) must arrive within this; otherwise the connection is closed. Default 3 s. */
  readonly timeoutMs: number;
}
