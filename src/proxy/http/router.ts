/**
 * Route matching: the first route whose prefix starts the request path wins. The comparison
 * runs on the request buffer's bytes, so no path string is made per request.
 */
import type { RouteEntry } from '../connection-types.js';
import type { MessageHead } from './head.js';

const SLASH = 47;

export function matchRoute(routes: readonly RouteEntry[], buf: Buffer, h: MessageHead): RouteEntry | null {
  let ts = h.targetStart;
  const te = h.targetEnd;
  if (buf[ts] !== SLASH) {
    ts = absoluteFormPath(buf, ts, te);
    if (ts < 0) return null;
  }
  return matchPath(routes, buf, ts, te);
}

/** The first route whose prefix starts buf[ts, te) (an origin-form path), or null. */
export function matchPath(routes: readonly RouteEntry[], buf: Buffer, ts: number, te: number): RouteEntry | null {
  const len = te - ts;
  for (let r = 0; r < routes.length; r++) {
    const route = routes[r] as RouteEntry;
    const p = route.prefix;
    const n = p.length;
    if (n > len) continue; // length first
    let i = 0;
    // A byte loop beats Buffer.compare for prefixes this short (no native call).
    while (i < n && buf[ts + i] === p[i]) i++;
    if (i === n) return route;
  }
  return null;
}

/** "http://host:port/path" -> offset of "/path"; -1 for other forms ("*", authority). */
function absoluteFormPath(buf: Buffer, ts: number, te: number): number {
  const scheme = buf.indexOf('://', ts, 'latin1');
  if (scheme < 0 || scheme >= te) return -1;
  const slash = buf.indexOf(SLASH, scheme + 3);
  return slash < 0 || slash >= te ? -1 : slash;
}
