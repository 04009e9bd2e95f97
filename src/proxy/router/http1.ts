/**
 * Routing straight from a parsed HTTP/1 head (`MessageHead`: offsets into the request
 * buffer). `Http1RouteRequest` is the request view, one per connection, reset per request:
 * each field is read from the buffer on first use and cached, so the fast path (a catch-all
 * virtual host of plain prefixes, an already-normal path) makes no string at all.
 *
 * Lifetime: the view reads the head's line offsets, which are shared by every head of the
 * thread (see `MessageHead.lineStart`). Read it only in the synchronous call that parsed the
 * head, as the connection manager already does for everything else in the head.
 */
import type { MessageHead } from '../http/head.js';
import { PATH_ESCAPED_SLASH, PATH_INVALID, PATH_UNCHANGED, absoluteFormAuthority, normalizeTarget } from './normalize-path.js';
import { queryParam } from './matchers.js';
import { REJECT_BAD_PATH, REJECT_ESCAPED_SLASH, REJECT_NO_VIRTUAL_HOST, selectInHost, selectPrefixBytes, virtualHostOf } from './select.js';
import type { RandomSource, RouteDecision, RouteRequest, RouteTable } from './types.js';

const SLASH = 47;
const COLON = 58;
const EMPTY = Buffer.alloc(0);

export class Http1RouteRequest implements RouteRequest {
  /** Set by the connection manager: `https` on a TLS listener. */
  scheme: 'http' | 'https' = 'http';
  /**
   * After `routeHttp1`: the normalized origin-form target to forward, or null when the target
   * bytes were already normal and are forwarded as they are.
   */
  normalizedPath: string | null = null;
  private buf: Buffer = EMPTY;
  private h: MessageHead | null = null;
  private cachedMethod: string | null = null;
  private cachedAuthority: string | null = null;
  private cachedPath: string | null = null;

  /** Points the view at a new head; `routeHttp1` calls it. */
  reset(buf: Buffer, h: MessageHead): void {
    this.buf = buf;
    this.h = h;
    this.normalizedPath = null;
    this.cachedMethod = null;
    this.cachedAuthority = null;
    this.cachedPath = null;
  }

  get method(): string {
    const h = this.head();
    this.cachedMethod ??= methodString(this.buf, h.methodStart, h.methodEnd);
    return this.cachedMethod;
  }

  /** The absolute-form target's authority when there is one (RFC 9112 §3.2.2: it wins over Host), else Host, else "". */
  get authority(): string {
    if (this.cachedAuthority !== null) return this.cachedAuthority;
    const h = this.head();
    let a: string | null = null;
    if (this.buf[h.targetStart] !== SLASH) a = absoluteFormAuthority(this.buf.toString('latin1', h.targetStart, h.targetEnd));
    const authority = a ?? this.header('host') ?? '';
    this.cachedAuthority = authority;
    return authority;
  }

  get path(): string {
    if (this.normalizedPath !== null) return this.normalizedPath;
    const h = this.head();
    this.cachedPath ??= this.buf.toString('latin1', h.targetStart, h.targetEnd);
    return this.cachedPath;
  }

  header(name: string): string | undefined {
    const h = this.head();
    const buf = this.buf;
    let out: string | undefined;
    for (let i = 0; i < h.count; i++) {
      const ls = h.lineStart[i] as number;
      if (!nameIs(buf, ls, name)) continue;
      let vs = ls + name.length + 1;
      let ve = (h.lineEnd[i] as number) - 2;
      while (vs < ve && (buf[vs] === 32 || buf[vs] === 9)) vs++;
      while (ve > vs && (buf[ve - 1] === 32 || buf[ve - 1] === 9)) ve--;
      const v = buf.toString('latin1', vs, ve);
      out = out === undefined ? v : `${out}, ${v}`;
    }
    return out;
  }

  query(name: string): string | undefined {
    return queryParam(this.path, name);
  }

  private head(): MessageHead {
    if (this.h === null) throw new Error('Http1RouteRequest read before reset');
    return this.h;
  }
}

/**
 * Normalizes the target of the parsed request `h` in `buf` and selects its route. After it,
 * `req.normalizedPath` says what to forward (null: the original target bytes).
 * Returns a 400 reject for a target that cannot be normalized.
 */
export function routeHttp1<C, D>(table: RouteTable<C, D>, req: Http1RouteRequest, buf: Buffer, h: MessageHead, random: RandomSource = Math.random): RouteDecision<C, D> {
  req.reset(buf, h);
  const n = normalizeTarget(buf, h.targetStart, h.targetEnd, table.escapedSlashes, table.normalizePath);
  if (n === PATH_INVALID) return REJECT_BAD_PATH;
  if (n === PATH_ESCAPED_SLASH) return REJECT_ESCAPED_SLASH;
  if (n !== PATH_UNCHANGED) req.normalizedPath = n;
  const vh = virtualHostOf(table, req);
  if (vh === null) return REJECT_NO_VIRTUAL_HOST;
  if (n === PATH_UNCHANGED && vh.fast) return selectPrefixBytes(vh, buf, h.targetStart, h.targetEnd, req, random);
  return selectInHost(vh, req, random);
}

/** Whether the header line at `ls` is named `name` (lower case), ASCII case ignored. */
function nameIs(buf: Buffer, ls: number, name: string): boolean {
  const n = name.length;
  if (buf[ls + n] !== COLON) return false; // length first: most lines differ here
  for (let i = 0; i < n; i++) {
    let c = buf[ls + i] as number;
    if (c >= 65 && c <= 90) c |= 0x20; // only letters: `_` | 0x20 would be DEL
    if (c !== name.charCodeAt(i)) return false;
  }
  return true;
}

/** The common methods as constants, so reading one makes no string. */
function methodString(buf: Buffer, s: number, e: number): string {
  const n = e - s;
  const c = buf[s];
  if (n === 3 && c === 71 && buf[s + 1] === 69 && buf[s + 2] === 84) return 'GET';
  if (n === 4 && c === 80 && buf[s + 1] === 79 && buf[s + 2] === 83 && buf[s + 3] === 84) return 'POST';
  if (n === 4 && c === 72 && buf[s + 1] === 69 && buf[s + 2] === 65 && buf[s + 3] === 68) return 'HEAD';
  return buf.toString('latin1', s, e);
}
