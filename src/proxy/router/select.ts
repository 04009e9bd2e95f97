/**
 * Route selection: virtual host by authority, then the first route of that host whose
 * matchers all hold, then its action (a weighted pick, or a redirect's Location).
 *
 * Path matching: `prefix` against the path with its query (as the byte loop always did),
 * `path` and `regex` against the path without it. A regex searches (`RegExp.test`): anchor it
 * with `^`/`$` to match the whole path.
 */
import { findVirtualHost } from './domains.js';
import { headersMatch, queryMatches, startsWithIgnoreCase } from './matchers.js';
import { redirectLocation } from './rewrite.js';

import { PathKind, type CompiledRoute, type CompiledVirtualHost, type RandomSource, type RejectDecision, type RouteDecision, type RouteRequest, type RouteTable } from './types.js';

export const REJECT_BAD_PATH: RejectDecision = Object.freeze({ kind: 'reject', status: 400, reason: 'bad-path' });
export const REJECT_ESCAPED_SLASH: RejectDecision = Object.freeze({ kind: 'reject', status: 400, reason: 'escaped-slash' });
export const REJECT_NO_VIRTUAL_HOST: RejectDecision = Object.freeze({ kind: 'reject', status: 404, reason: 'no-virtual-host' });
export const REJECT_NO_ROUTE: RejectDecision = Object.freeze({ kind: 'reject', status: 404, reason: 'no-route' });

/**
 * The decision for a request whose `path` is already normalized (`normalizeTargetString` for
 * a path held as a string; `routeHttp1` does both steps for a raw HTTP/1 head).
 * @param random the source for weighted picks; tests pass `seededRandom(seed)`.
 */
export function selectRoute<C, D>(table: RouteTable<C, D>, req: RouteRequest, random: RandomSource = Math.random): RouteDecision<C, D> {
  const vh = virtualHostOf(table, req);
  return vh === null ? REJECT_NO_VIRTUAL_HOST : selectInHost(vh, req, random);
}

/** The request's virtual host; the authority is not read when one host takes every request. */
export function virtualHostOf<C, D>(table: RouteTable<C, D>, req: RouteRequest): CompiledVirtualHost<C, D> | null {
  return findVirtualHost(table.hosts, table.hosts.only === null ? req.authority : '');
}

export function selectInHost<C, D>(vh: CompiledVirtualHost<C, D>, req: RouteRequest, random: RandomSource): RouteDecision<C, D> {
  const route = firstMatch(vh, req);
  return route === null ? REJECT_NO_ROUTE : decide(route, req, random);
}

function firstMatch<C, D>(vh: CompiledVirtualHost<C, D>, req: RouteRequest): CompiledRoute<C, D> | null {
  const path = req.path;
  let pathOnly: string | null = null; // made once, and only if an exact or regex route is reached
  const routes = vh.routes;
  for (let i = 0; i < routes.length; i++) {
    const r = routes[i] as CompiledRoute<C, D>;
    if (r.pathKind === PathKind.Prefix) {
      if (!(r.caseSensitive ? path.startsWith(r.value) : startsWithIgnoreCase(path, r.value))) continue;
    } else {
      if (pathOnly === null) {
        const q = path.indexOf('?');
        pathOnly = q < 0 ? path : path.slice(0, q);
      }
      if (r.pathKind === PathKind.Exact) {
        if (pathOnly.length !== r.value.length) continue; // length first
        if (!(r.caseSensitive ? pathOnly === r.value : pathOnly.toLowerCase() === r.value)) continue;
      } else if (!(r.regex as RegExp).test(pathOnly)) continue;
    }
    if (r.methods !== null && !r.methods.includes(req.method)) continue;
    if (r.headers !== null && !headersMatch(r.headers, req)) continue;
    if (r.query !== null && !queryMatches(r.query, req)) continue;
    return r;
  }
  return null;
}

/**
 * The byte loop for a fast virtual host and an unchanged origin-form target: the first route
 * whose prefix starts `buf[ts, te)`. The same loop as the prefix router before it: a byte
 * compare beats Buffer.compare for prefixes this short (no native call), and no path string
 * is made unless the action needs one (a redirect).
 */
export function selectPrefixBytes<C, D>(vh: CompiledVirtualHost<C, D>, buf: Buffer, ts: number, te: number, req: RouteRequest, random: RandomSource): RouteDecision<C, D> {
  const len = te - ts;
  const routes = vh.routes;
  for (let r = 0; r < routes.length; r++) {
    const route = routes[r] as CompiledRoute<C, D>;
    const p = route.bytes;
    const n = p.length;
    if (n > len) continue; // length first
    let i = 0;
    while (i < n && buf[ts + i] === p[i]) i++;
    if (i === n) return decide(route, req, random);
  }
  return REJECT_NO_ROUTE;
}

function decide<C, D>(route: CompiledRoute<C, D>, req: RouteRequest, random: RandomSource): RouteDecision<C, D> {
  const a = route.action;
  switch (a.kind) {
    case 'fixed':
      return a.decision;
    case 'weighted': {
      const x = Math.floor(random() * a.total);
      const c = a.cumulative;
      for (let i = 0; i < c.length - 1; i++) if (x < (c[i] as number)) return a.decisions[i] as RouteDecision<C, D>;
      return a.decisions[c.length - 1] as RouteDecision<C, D>;
    }
    case 'redirect':
      return { kind: 'redirect', route: route.info, status: a.redirect.responseCode, location: redirectLocation(a.redirect, route.info, req) };
  }
}
