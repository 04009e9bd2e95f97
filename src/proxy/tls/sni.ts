/**
 * Which certificate a client gets for the SNI name it sent: an exact name from a certificate's
 * subjectAltName DNS entries (its subject CN when it has none), else a `*.example.com`
 * wildcard matching exactly one label, else the first certificate. Earlier certificates win
 * a name two of them claim. Built once per snapshot; a lookup is one or two Map gets.
 */
import { X509Certificate } from 'node:crypto';

export class SniTable<T> {
  private readonly exact = new Map<string, T>();
  /** Keyed by the part after `*.`. */
  private readonly wildcard = new Map<string, T>();

  constructor(private readonly fallback: T) {}

  /** Registers the names of the PEM certificate `cert` for `value`. */
  add(cert: string, value: T): void {
    for (const name of certificateNames(new X509Certificate(cert))) {
      const table = name.startsWith('*.') ? this.wildcard : this.exact;
      const key = name.startsWith('*.') ? name.slice(2) : name;
      if (!table.has(key)) table.set(key, value);
    }
  }

  /** The entry for `servername` (matched case-insensitively, a trailing dot ignored). */
  select(servername: string): T {
    let name = servername.toLowerCase();
    if (name.endsWith('.')) name = name.slice(0, -1);
    const hit = this.exact.get(name);
    if (hit !== undefined) return hit;
    const dot = name.indexOf('.');
    if (dot > 0) {
      const wild = this.wildcard.get(name.slice(dot + 1));
      if (wild !== undefined) return wild;
    }
    return this.fallback;
  }
}

/** DNS names a certificate is for: its subjectAltName DNS entries, or its subject CN. Lower case. */
export function certificateNames(x509: X509Certificate): string[] {
  const san = x509.subjectAltName;
  const dns = san === undefined ? [] : san.split(', ').filter((e) => e.startsWith('DNS:')).map((e) => e.slice(4));
  if (dns.length > 0) return dns.map((n) => n.toLowerCase());
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(x509.subject);
  return cn?.[1] === undefined ? [] : [cn[1].toLowerCase()];
}
