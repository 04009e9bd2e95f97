/**
 * Builds the TLS parts of a snapshot from the config's PEM text: one secure context per
 * certificate, the SNI table over them and the (never listening) `tls.Server` that runs
 * listener handshakes; for clusters, one client context per cluster. Once per snapshot in
 * the worker thread that uses it (and, for a cluster's active health checks, once per checker on
 * the epoch's main thread).
 */
import { isIP } from 'node:net';
import { createSecureContext, createServer, type ConnectionOptions, type SecureContext } from 'node:tls';
import type { ListenerTlsConfig, UpstreamTlsConfig } from '../../config/types.js';
import type { StatsStore } from '../../shm/types.js';
import { SniTable } from './sni.js';
import type { ClientCertMode, ListenerTlsSnapshot, TlsStats, UpstreamTlsSnapshot } from './types.js';

let nextUpstreamId = 1;

export function tlsStats(listener: string, stats: StatsStore): TlsStats {
  const p = `listener.${listener}.ssl.`;
  return {
    handshake: stats.counter(`${p}handshake`),
    connectionError: stats.counter(`${p}connection_error`),
    failVerifyNoCert: stats.counter(`${p}fail_verify_no_cert`),
    failVerifyError: stats.counter(`${p}fail_verify_error`),
    noCertificate: stats.counter(`${p}no_certificate`),
  };
}

export function listenerTlsSnapshot(listener: string, t: ListenerTlsConfig, stats: StatsStore): ListenerTlsSnapshot {
  const cc = t.clientCertificate;
  const clientCert: ClientCertMode = cc === null ? 'none' : cc.required ? 'required' : 'optional';
  // The CA goes into every context: the one SNI selects replaces the default for the handshake.
  const ca = cc === null ? undefined : cc.ca;
  const contexts = t.certificates.map((c) => createSecureContext({ cert: c.cert, key: c.key, minVersion: t.minVersion, ca }));
  const first = t.certificates[0];
  if (first === undefined || contexts[0] === undefined) throw new Error(`listener ${listener}: tls without a certificate`);
  const sni = new SniTable<SecureContext>(contexts[0]);
  t.certificates.forEach((c, i) => {
    sni.add(c.cert, contexts[i] as SecureContext);
  });
  const server = createServer({
    // The default context (a client that sends no SNI); Node builds it from these options.
    cert: first.cert,
    key: first.key,
    ca,
    minVersion: t.minVersion,
    ALPNProtocols: t.alpn.length > 0 ? [...t.alpn] : undefined,
    requestCert: clientCert !== 'none',
    // Node refuses a client certificate that fails verification when this is set; with
    // `optional`, the termination refuses it itself (a client may still send none).
    rejectUnauthorized: clientCert === 'required',
    handshakeTimeout: t.handshakeTimeoutMs,
    SNICallback: (servername, cb) => cb(null, sni.select(servername)),
  });
  return Object.freeze({ alpn: Object.freeze([...t.alpn]), clientCert, handshakeTimeoutMs: t.handshakeTimeoutMs, server, stats: tlsStats(listener, stats) });
}

export function upstreamTlsSnapshot(t: UpstreamTlsConfig): UpstreamTlsSnapshot {
  // Without a CA file, Node's bundled roots (createSecureContext's default).
  const context = createSecureContext(t.ca === null ? {} : { ca: t.ca });
  return Object.freeze({ id: nextUpstreamId++, context, sni: t.sni, verify: t.verify });
}

/**
 * The `tls.connect` options that reach `host:port` with a cluster's settings. SNI defaults to
 * the host when it is a name; an IP literal is never sent as SNI (the IP is then verified).
 */
export function upstreamTlsOptions(tls: UpstreamTlsSnapshot, host: string, port: number): ConnectionOptions {
  const servername = tls.sni ?? (isIP(host) === 0 ? host : undefined);
  return { host, port, servername, secureContext: tls.context, rejectUnauthorized: tls.verify };
}
