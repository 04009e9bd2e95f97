/**
 * Virtual host selection by the request's authority, with the precedence an Envoy user
 * expects: an exact domain, then the longest `*suffix` wildcard, then the longest `prefix*`
 * wildcard, then `*`. Matching ignores ASCII case. The port in the authority is ignored,
 * except by exact domains that name one (`api.example.com:8080`), which are tried first.
 * A wildcard stands for at least one character: `*.example.com` does not match `example.com`.
 */
import type { CompiledVirtualHost, VirtualHostIndex, Wildcard } from './types.js';

export function indexVirtualHosts<C, D>(hosts: readonly { readonly domains: readonly string[]; readonly compiled: CompiledVirtualHost<C, D> }[]): VirtualHostIndex<C, D> {
  const exact = new Map<string, CompiledVirtualHost<C, D>>();
  const suffixes: Wildcard<C, D>[] = [];
  const prefixes: Wildcard<C, D>[] = [];
  let any: CompiledVirtualHost<C, D> | null = null;
  let exactWithPort = false;
  for (const { domains, compiled } of hosts) {
    for (const d of domains) {
      if (d === '*') any = compiled;
      else if (d.startsWith('*')) suffixes.push({ text: d.slice(1), host: compiled });
      else if (d.endsWith('*')) prefixes.push({ text: d.slice(0, -1), host: compiled });
      else {
        exact.set(d, compiled);
        if (portStart(d) >= 0) exactWithPort = true;
      }
    }
  }
  suffixes.sort((a, b) => b.text.length - a.text.length);
  prefixes.sort((a, b) => b.text.length - a.text.length);
  const first = hosts[0];
  const only = hosts.length === 1 && first !== undefined && any === first.compiled ? any : null;
  return { exact, exactWithPort, suffixes, prefixes, any, only };
}

export function findVirtualHost<C, D>(index: VirtualHostIndex<C, D>, authority: string): CompiledVirtualHost<C, D> | null {
  if (index.only !== null) return index.only;
  const full = authority.toLowerCase();
  if (index.exactWithPort) {
    const withPort = index.exact.get(full);
    if (withPort !== undefined) return withPort;
  }
  const p = portStart(full);
  const host = p < 0 ? full : full.slice(0, p);
  const exact = index.exact.get(host);
  if (exact !== undefined) return exact;
  for (const w of index.suffixes) if (host.length > w.text.length && host.endsWith(w.text)) return w.host;
  for (const w of index.prefixes) if (host.length > w.text.length && host.startsWith(w.text)) return w.host;
  return index.any;
}

/** Offset of the `:` before a port (`h:80`, `[::1]:80`), or -1 when there is none. */
export function portStart(authority: string): number {
  const colon = authority.lastIndexOf(':');
  if (colon < 0 || colon < authority.lastIndexOf(']')) return -1;
  return colon;
}
