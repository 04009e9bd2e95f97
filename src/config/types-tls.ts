/**
 * TLS settings of a listener (termination) and of a cluster (origination), as the rest of the
 * program sees them: file paths absolute, and the files' contents read and checked when the
 * config was loaded. Carrying the PEM text in the config (rather than paths the worker threads
 * read later) means the epoch serves exactly the files that were validated, and a reload that
 * finds renewed files at the same paths loads them: nothing caches them across epochs.
 */

export type TlsVersion = 'TLSv1.2' | 'TLSv1.3';

export interface TlsCertificateConfig {
  /** Absolute path (a relative one in the file is resolved against the config file's directory). */
  readonly certFile: string;
  readonly keyFile: string;
  /** The certificate file's PEM text (the leaf first, then any intermediates). */
  readonly cert: string;
  /** The key file's PEM text; it matches the leaf certificate. */
  readonly key: string;
}

export interface ClientCertificateConfig {
  readonly caFile: string;
  /** PEM text of the CA certificates client certificates must chain to. */
  readonly ca: string;
  /** Refuse a client that sends no certificate (a certificate that fails verification is always refused). */
  readonly required: boolean;
}

export interface ListenerTlsConfig {
  /** At least one. Chosen by the SNI name the client sends; the first is the default. */
  readonly certificates: readonly TlsCertificateConfig[];
  /** Default TLSv1.2. */
  readonly minVersion: TlsVersion;
  /** Protocols offered by ALPN, in preference order. Default `[http/1.1]` on http listeners, none on tcp. */
  readonly alpn: readonly string[];
  /** A handshake not finished within this is closed and counted. Default 10 s. */
  readonly handshakeTimeoutMs: number;
  /** Client-certificate verification (mTLS), or null (no certificate is asked for). */
  readonly clientCertificate: ClientCertificateConfig | null;
}

export interface UpstreamTlsConfig {
  /** The server name sent (SNI) and verified. Default: the endpoint host when it is a name. */
  readonly sni: string | null;
  readonly caFile: string | null;
  /** PEM text of the CA certificates to verify against; null: Node's bundled roots. */
  readonly ca: string | null;
  /** Verify the upstream's certificate and name. Default true. */
  readonly verify: boolean;
}
