/**
 * Request path normalization, done before routing; the normalized path is both what routes
 * match and what is forwarded, so a route cannot be dodged by spelling a path another way.
 *
 * On the path (never the query, which is kept byte for byte):
 *   1. Percent-escapes of unreserved characters are decoded (`%2e` -> `.`, `%41` -> `A`,
 *      `%7E` -> `~`); every other escape keeps its byte and gets upper-case hex (`%2f` -> `%2F`).
 *      A `%` not followed by two hex digits makes the request a 400.
 *   2. `%2F` and `%5C` follow the listener's `pathWithEscapedSlashes`:
 *        keep     (default) left encoded (`%2F`, `%5C`); not a separator, so `/a/..%2F..` is
 *                 one segment and climbs nowhere. Upstreams that decode it see a different
 *                 path than the router matched; choose `reject` if that matters.
 *        reject   the request is a 400.
 *        unescape decoded to `/` (a separator from then on: it takes part in steps 3 and 4) and
 *                 `\` (an ordinary byte; it is not treated as a separator).
 *   3. Runs of `/` become one `/`.
 *   4. `.` and `..` segments are removed (RFC 3986 §5.2.4); `..` never climbs above `/`. A
 *      path that ended in a removed segment keeps a trailing `/` (`/a/.` -> `/a/`).
 * A `#` anywhere in the target is a 400 (a request target has no fragment).
 *
 * Forms: origin-form (`/path?query`) is normalized in place; absolute-form
 * (`http://host/path?query`, `https://...`) becomes the origin-form of its path (`/` when
 * empty); anything else (`*`, authority-form) is a 400. Bytes above 0x7E are passed through;
 * strings here are latin1, one char per byte, so write them back as latin1.
 */
import type { EscapedSlashesPolicy } from '../../config/types-router.js';

/** The origin-form target is already normal: forward the original bytes, match them as they are. */
export const PATH_UNCHANGED = 0;
/** Not origin-form or absolute-form, a bad escape, or a fragment: answer 400. */
export const PATH_INVALID = 1;
/** `%2F` or `%5C` under `pathWithEscapedSlashes: reject`: answer 400. */
export const PATH_ESCAPED_SLASH = 2;

/** A normalized origin-form target (path and query) when it differs from what was sent. */
export type PathResult = typeof PATH_UNCHANGED | typeof PATH_INVALID | typeof PATH_ESCAPED_SLASH | string;

const SLASH = 47;
const DOT = 46;
const QUERY = 63;
const HASH = 35;
const PERCENT = 37;

/** Value of an upper-case hex digit, or -1 (lower-case digits are not normal: they take the slow path). */
const HEX_UPPER = new Int8Array(256).fill(-1);
/** Value of any hex digit, or -1. */
const HEX = new Int8Array(256).fill(-1);
for (let i = 0; i < 10; i++) HEX_UPPER[48 + i] = HEX[48 + i] = i;
for (let i = 0; i < 6; i++) {
  HEX_UPPER[65 + i] = HEX[65 + i] = 10 + i;
  HEX[97 + i] = 10 + i;
}
/** RFC 3986 unreserved: ALPHA / DIGIT / "-" / "." / "_" / "~". */
const UNRESERVED = new Uint8Array(256);
for (let c = 48; c <= 57; c++) UNRESERVED[c] = 1;
for (let c = 65; c <= 90; c++) UNRESERVED[c] = UNRESERVED[c + 32] = 1;
for (const c of '-._~') UNRESERVED[c.charCodeAt(0)] = 1;
const HEX_DIGITS = '0123456789ABCDEF';

/**
 * Normalizes the request target in `buf[start, end)`. With `normalize` false only the form is
 * checked and an absolute-form target reduced to its origin-form (the path is left as sent).
 * The usual already-normal origin-form path is recognised with one byte scan and no allocation.
 */
export function normalizeTarget(buf: Buffer, start: number, end: number, policy: EscapedSlashesPolicy, normalize = true): PathResult {
  if (buf[start] !== SLASH) return absoluteForm(buf.toString('latin1', start, end), policy, normalize);
  if (!normalize || isNormalBytes(buf, start, end, policy)) return PATH_UNCHANGED;
  return normalizeOrigin(buf.toString('latin1', start, end), policy);
}

/** The same, for a target already held as a string (an HTTP/2 `:path`, a header map's path). */
export function normalizeTargetString(target: string, policy: EscapedSlashesPolicy, normalize = true): PathResult {
  if (target.charCodeAt(0) !== SLASH) return absoluteForm(target, policy, normalize);
  if (!normalize) return PATH_UNCHANGED;
  return normalizeOrigin(target, policy);
}

/** The authority of an absolute-form target (`http://Host:8080/x` -> `Host:8080`), or null for other forms. */
export function absoluteFormAuthority(target: string): string | null {
  const from = schemeEnd(target);
  if (from < 0) return null;
  return target.slice(from, authorityEnd(target, from));
}

/** One pass that only says whether the slow path has anything to do. */
function isNormalBytes(buf: Buffer, p: number, end: number, policy: EscapedSlashesPolicy): boolean {
  for (; p < end; p++) {
    const c = buf[p] as number;
    if (c === QUERY) break;
    if (c === PERCENT) {
      if (p + 2 >= end || !isNormalEscape(buf[p + 1] as number, buf[p + 2] as number, policy)) return false;
      p += 2;
    } else if (c === SLASH) {
      const n = p + 1 < end ? (buf[p + 1] as number) : -1;
      if (n === SLASH) return false;
      if (n === DOT) {
        const n2 = p + 2 < end ? (buf[p + 2] as number) : -1;
        if (n2 === -1 || n2 === SLASH || n2 === QUERY) return false;
        if (n2 === DOT) {
          const n3 = p + 3 < end ? (buf[p + 3] as number) : -1;
          if (n3 === -1 || n3 === SLASH || n3 === QUERY) return false;
        }
      }
    } else if (c === HASH) return false;
  }
  // The query is kept as is, but a fragment there is refused all the same. (A loop, not
  // indexOf: that would run on through the body bytes that follow the head in the buffer.)
  for (; p < end; p++) if (buf[p] === HASH) return false;
  return true;
}

function isNormalEscape(b1: number, b2: number, policy: EscapedSlashesPolicy): boolean {
  const hi = HEX_UPPER[b1] as number;
  const lo = HEX_UPPER[b2] as number;
  if (hi < 0 || lo < 0) return false;
  const v = hi * 16 + lo;
  if (UNRESERVED[v] === 1) return false;
  return !((v === 0x2f || v === 0x5c) && policy !== 'keep');
}

/** The slow path for an origin-form target; PATH_UNCHANGED when the result equals the input. */
function normalizeOrigin(target: string, policy: EscapedSlashesPolicy): PathResult {
  if (target.includes('#')) return PATH_INVALID;
  const q = target.indexOf('?');
  const pathEnd = q < 0 ? target.length : q;
  const decoded = decodePath(target, pathEnd, policy);
  if (typeof decoded === 'number') return decoded;
  const path = removeDotSegments(decoded);
  if (path.length === pathEnd && target.startsWith(path)) return PATH_UNCHANGED;
  return q < 0 ? path : path + target.slice(q);
}

/** Step 1 and 2 over target[0, end): unreserved escapes decoded, others upper-cased. */
function decodePath(s: string, end: number, policy: EscapedSlashesPolicy): string | typeof PATH_INVALID | typeof PATH_ESCAPED_SLASH {
  let i = s.indexOf('%');
  if (i < 0 || i >= end) return s.slice(0, end);
  let out = s.slice(0, i);
  while (i < end) {
    const c = s.charCodeAt(i);
    if (c !== PERCENT) {
      out += s[i];
      i++;
      continue;
    }
    if (i + 2 >= end) return PATH_INVALID;
    const c1 = s.charCodeAt(i + 1);
    const c2 = s.charCodeAt(i + 2);
    const hi = c1 > 0xff ? -1 : (HEX[c1] as number);
    const lo = c2 > 0xff ? -1 : (HEX[c2] as number);
    if (hi < 0 || lo < 0) return PATH_INVALID;
    const v = hi * 16 + lo;
    if (UNRESERVED[v] === 1) out += String.fromCharCode(v);
    else if (v === 0x2f || v === 0x5c) {
      if (policy === 'reject') return PATH_ESCAPED_SLASH;
      out += policy === 'unescape' ? String.fromCharCode(v) : v === 0x2f ? '%2F' : '%5C';
    } else out += `%${HEX_DIGITS[hi]}${HEX_DIGITS[lo]}`;
    i += 3;
  }
  return out;
}

/** Steps 3 and 4 on a path that starts with "/". */
export function removeDotSegments(path: string): string {
  const segs = path.split('/');
  const out: string[] = [];
  let trailing = false;
  for (let i = 1; i < segs.length; i++) {
    const seg = segs[i] as string;
    const last = i === segs.length - 1;
    if (seg === '' || seg === '.' || seg === '..') {
      if (seg === '..') out.pop();
      if (last) trailing = true;
      continue;
    }
    out.push(seg);
  }
  const joined = `/${out.join('/')}`;
  return trailing && out.length > 0 ? `${joined}/` : joined;
}

function absoluteForm(target: string, policy: EscapedSlashesPolicy, normalize: boolean): PathResult {
  const from = schemeEnd(target);
  if (from < 0) return PATH_INVALID;
  const at = authorityEnd(target, from);
  const authority = target.slice(from, at);
  if (authority.length === 0 || authority.includes('@') || target.charCodeAt(at) === HASH) return PATH_INVALID;
  const rest = target.slice(at);
  const origin = rest.charCodeAt(0) === SLASH ? rest : `/${rest}`;
  if (!normalize) return origin;
  const r = normalizeOrigin(origin, policy);
  return r === PATH_UNCHANGED ? origin : r;
}

/** Offset past `http://` or `https://` (any case), or -1. */
function schemeEnd(t: string): number {
  const colon = t.indexOf('://');
  if (colon !== 4 && colon !== 5) return -1;
  const scheme = t.slice(0, colon).toLowerCase();
  return scheme === 'http' || scheme === 'https' ? colon + 3 : -1;
}

function authorityEnd(t: string, from: number): number {
  let i = from;
  while (i < t.length) {
    const c = t.charCodeAt(i);
    if (c === SLASH || c === QUERY || c === HASH) break;
    i++;
  }
  return i;
}
