/**
 * Reads and checks the files a config's `tls` keys name, where the rest of the config is
 * checked (`proxyctl validate`, the supervisor on a reload, the epoch before ready), so a bad
 * key is a config error at `file:line:col`, exit 78, and never a worker that fails to build its
 * snapshot. Files are read afresh on every parse: a reload picks up renewed certificates.
 *
 * Refused: a missing file or one that is not a regular file; a key file that group or others
 * can read; PEM that does not parse; a key that does not match its certificate.
 */
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import { errnoCode } from '../errors.js';
import type { PathIssue, IssuePath } from './issue.js';
import type { ConfigFile } from './schema.js';
import { DEFAULT_ALPN, DEFAULT_HANDSHAKE_TIMEOUT_MS, type ListenerTlsFile, type UpstreamTlsFile } from './schema-tls.js';
import type { ListenerTlsConfig, TlsCertificateConfig, UpstreamTlsConfig } from './types-tls.js';
import type { ClusterConfig, ListenerConfig, ProxyConfig } from './types.js';

export interface TlsAttached {
  readonly config: ProxyConfig;
  readonly issues: PathIssue[];
}

/**
 * `config` with the `tls` of each listener and cluster of `file` (the schema's output, same
 * order) filled in: paths resolved against `baseDir`, contents read and checked. With any
 * issue, `config` is the input unchanged and must not be used.
 */
export function attachTls(config: ProxyConfig, file: ConfigFile, baseDir: string): TlsAttached {
  const issues: PathIssue[] = [];
  const listeners = config.listeners.map((l, i): ListenerConfig => {
    const t = file.listeners[i]?.tls;
    const withTls = t === undefined ? l : { ...l, tls: listenerTls(t, l.protocol, baseDir, ['listeners', i, 'tls'], issues) };
    return chainsWithTls(withTls, file.listeners[i]?.filterChains ?? [], baseDir, ['listeners', i, 'filterChains'], issues);
  });
  const clusters = config.clusters.map((c, i): ClusterConfig => {
    const t = file.clusters[i]?.tls;
    return t === undefined ? c : { ...c, tls: upstreamTls(t, baseDir, ['clusters', i, 'tls'], issues) };
  });
  return { config: issues.length > 0 ? config : { ...config, listeners, clusters }, issues };
}

/** Whether parsing this config reads other files (so the same text may parse differently later). */
export function configReadsFiles(config: ProxyConfig): boolean {
  const chainTls = (l: ListenerConfig): boolean => l.filterChains?.some((c) => c.tls !== undefined) === true;
  return config.listeners.some((l) => l.tls !== undefined || chainTls(l)) || config.clusters.some((c) => c.tls !== undefined);
}

/** `l` with the `tls` of each of its filter chains (`chains`, the file's, same order) filled in. */
function chainsWithTls(l: ListenerConfig, chains: readonly { readonly tls?: ListenerTlsFile | undefined }[], baseDir: string, at: IssuePath, issues: PathIssue[]): ListenerConfig {
  if (l.filterChains === undefined || !chains.some((c) => c.tls !== undefined)) return l;
  const tlsOf = (j: number): { tls?: ListenerTlsConfig } => {
    const t = chains[j]?.tls;
    return t === undefined ? {} : { tls: listenerTls(t, l.protocol, baseDir, [...at, j, 'tls'], issues) };
  };
  if (l.protocol === 'http') return { ...l, filterChains: (l.filterChains ?? []).map((c, j) => ({ ...c, ...tlsOf(j) })) };
  return { ...l, filterChains: (l.filterChains ?? []).map((c, j) => ({ ...c, ...tlsOf(j) })) };
}

function listenerTls(t: ListenerTlsFile, protocol: ListenerConfig['protocol'], baseDir: string, at: IssuePath, issues: PathIssue[]): ListenerTlsConfig {
  const certificates = t.certificates.map((c, j) => certificate(c.certFile, c.keyFile, t.minVersion, baseDir, [...at, 'certificates', j], issues));
  const cc = t.clientCertificate;
  let clientCertificate: ListenerTlsConfig['clientCertificate'] = null;
  if (cc !== undefined) {
    const caFile = resolve(baseDir, cc.caFile);
    clientCertificate = { caFile, ca: caBundle(caFile, [...at, 'clientCertificate', 'caFile'], issues), required: cc.required };
  }
  return {
    certificates,
    minVersion: t.minVersion,
    alpn: t.alpn ?? DEFAULT_ALPN[protocol],
    handshakeTimeoutMs: t.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
    clientCertificate,
  };
}

function upstreamTls(t: UpstreamTlsFile, baseDir: string, at: IssuePath, issues: PathIssue[]): UpstreamTlsConfig {
  const caFile = t.caFile === undefined ? null : resolve(baseDir, t.caFile);
  return { sni: t.sni ?? null, caFile, ca: caFile === null ? null : caBundle(caFile, [...at, 'caFile'], issues), verify: t.verify };
}

function certificate(certPath: string, keyPath: string, minVersion: ListenerTlsConfig['minVersion'], baseDir: string, at: IssuePath, issues: PathIssue[]): TlsCertificateConfig {
  const certFile = resolve(baseDir, certPath);
  const keyFile = resolve(baseDir, keyPath);
  const certAt = [...at, 'certFile'];
  const keyAt = [...at, 'keyFile'];
  const cert = readPem(certFile, certAt, issues, false);
  const key = readPem(keyFile, keyAt, issues, true);
  const out = { certFile, keyFile, cert: cert ?? '', key: key ?? '' };
  if (cert === null || key === null) return out;
  const x509 = parse(() => new X509Certificate(cert), certFile, 'a PEM certificate', certAt, issues);
  const keyObject = parse((): KeyObject => createPrivateKey(key), keyFile, 'a PEM private key (encrypted keys are not supported)', keyAt, issues);
  if (x509 === null || keyObject === null) return out;
  if (!x509.checkPrivateKey(keyObject)) {
    issues.push({ path: keyAt, message: `the key in ${keyFile} does not match the certificate in ${certFile}`, at: 'key' });
    return out;
  }
  // What Node itself will be asked to do per worker; a refusal here (a key too weak for the
  // OpenSSL security level, say) is a config error now rather than a worker that cannot start.
  parse(() => createSecureContext({ cert, key, minVersion }), certFile, 'a certificate and key Node can serve', certAt, issues);
  return out;
}

function caBundle(caFile: string, at: IssuePath, issues: PathIssue[]): string {
  const pem = readPem(caFile, at, issues, false);
  if (pem === null) return '';
  parse(() => createSecureContext({ ca: pem }), caFile, 'PEM CA certificates', at, issues);
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) issues.push({ path: at, message: `${caFile} holds no PEM certificate`, at: 'key' });
  return pem;
}

/** The file's text, or null with an issue at the key naming it. */
function readPem(path: string, at: IssuePath, issues: PathIssue[], secret: boolean): string | null {
  const fail = (message: string): null => {
    issues.push({ path: at, message, at: 'key' });
    return null;
  };
  try {
    const st = statSync(path);
    if (!st.isFile()) return fail(`${path} is not a regular file`);
    // Group or others may read it: the key is as good as public on a shared host.
    if (secret && (st.mode & 0o044) !== 0) return fail(`${path} has mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}: group or others can read this private key; chmod 600 it`);
    return readFileSync(path, 'utf8');
  } catch (err: unknown) {
    return fail(`cannot read ${path}: ${errnoCode(err) ?? String(err)}`);
  }
}

function parse<T>(fn: () => T, path: string, what: string, at: IssuePath, issues: PathIssue[]): T | null {
  try {
    return fn();
  } catch (err: unknown) {
    const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
    issues.push({ path: at, message: `${path} does not hold ${what}: ${reason}`, at: 'key' });
    return null;
  }
}
