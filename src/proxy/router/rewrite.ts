/**
 * What a route changes in a request: the path and authority sent upstream (`rewritePath`,
 * `rewriteAuthority`), and the `Location` of a redirect. All of them work on the normalized
 * path, so a rewrite sees the path the route matched.
 */
import type { RedirectConfig } from '../../config/types-router.js';
import { portStart } from './domains.js';
import type { RouteInfo, RouteRequest } from './types.js';

/**
 * The path (with query) to send upstream: `prefixRewrite` replaces the matched prefix
 * (`/users/` -> `/` turns `/users/42?x` into `/42?x`), `regexRewrite` replaces every match in
 * the path without its query. Returns `path` itself when the route rewrites neither.
 */
export function rewritePath(route: RouteInfo, path: string): string {
  if (route.prefixRewrite !== null) return route.prefixRewrite + path.slice(route.prefixLength);
  const rx = route.regexRewrite;
  if (rx === null) return path;
  const q = path.indexOf('?');
  if (q < 0) return path.replace(rx.pattern, rx.substitution);
  return path.slice(0, q).replace(rx.pattern, rx.substitution) + path.slice(q);
}

/** The authority (`Host` / `:authority`) to send upstream: `hostRewrite`, or `authority` itself. */
export function rewriteAuthority(route: RouteInfo, authority: string): string {
  return route.hostRewrite ?? authority;
}

const DEFAULT_PORT = { http: '80', https: '443' } as const;

/**
 * The `Location` of a redirect, absolute: scheme (`schemeRedirect`, else the request's), host
 * (`hostRedirect`, else the request's, lower case), port, path and query.
 * The port is `portRedirect` when set; otherwise the request's, except that it is dropped when
 * `hostRedirect` names another host or `schemeRedirect` changes the scheme. A port that is the
 * scheme's default (80, 443) is never written.
 * The path is `pathRedirect` (whose own query, if it has one, replaces the request's), or the
 * request's with `prefixRewrite` applied to the matched prefix. `stripQuery` drops the
 * request's query. A request with no authority (HTTP/1.0 without Host) and no `hostRedirect`
 * gets a relative `Location`: the path and query only.
 */
export function redirectLocation(d: RedirectConfig, route: RouteInfo, req: RouteRequest): string {
  const path = req.path;
  const q = path.indexOf('?');
  let newPath = q < 0 ? path : path.slice(0, q);
  let query = q < 0 || d.stripQuery ? '' : path.slice(q);
  if (d.pathRedirect !== null) {
    const pq = d.pathRedirect.indexOf('?');
    if (pq < 0) newPath = d.pathRedirect;
    else {
      newPath = d.pathRedirect.slice(0, pq);
      query = d.pathRedirect.slice(pq);
    }
  } else if (d.prefixRewrite !== null) newPath = d.prefixRewrite + newPath.slice(route.prefixLength);

  const authority = req.authority.toLowerCase();
  const p = portStart(authority);
  const reqHost = p < 0 ? authority : authority.slice(0, p);
  const host = d.hostRedirect ?? reqHost;
  if (host === '') return newPath + query;
  const reqScheme = req.scheme ?? 'http';
  const scheme = d.schemeRedirect ?? reqScheme;
  let port: string | null;
  if (d.portRedirect !== null) port = String(d.portRedirect);
  else if ((d.hostRedirect !== null && d.hostRedirect !== reqHost) || scheme !== reqScheme || p < 0) port = null;
  else port = authority.slice(p + 1);
  if (port === DEFAULT_PORT[scheme] || port === '') port = null;
  return `${scheme}://${host}${port === null ? '' : `:${port}`}${newPath}${query}`;
}
