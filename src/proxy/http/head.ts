/**
 * Strict HTTP/1.1 message-head parser over Buffers (RFC 9112). It records where things are
 * (offsets into the caller's buffer) instead of building strings or maps, so the head can be
 * forwarded as the original bytes. Ambiguous framing is refused, never guessed:
 *   - bare LF or a CR not followed by LF anywhere in the head           -> 400
 *   - obs-fold (a line starting with SP/HTAB), whitespace before ':'    -> 400
 *   - a header name with a non-token byte, a value with a CTL           -> 400
 *   - Content-Length not all digits, or two that differ                 -> 400
 *   - both Content-Length and Transfer-Encoding; a TE other than chunked -> 400 (requests)
 *   - HTTP/1.1 request without exactly one Host                        -> 400
 *   - head over `maxBytes` or more than `maxFields` lines (defaults: MAX_HEAD_BYTES and
 *     MAX_HEADERS; a listener may set its own)                          -> 431
 * One `MessageHead` per connection direction is reused for every message.
 */

import { fieldSemantics, markConnectionTokens } from './head-fields.js';
import type { MessageHead } from './message-head.js';

export { MAX_HEADERS, MAX_HEAD_BYTES, MessageHead, headerFields } from './message-head.js';

/** Parse outcome when the head is not complete yet. */
export const INCOMPLETE = -1;
/** Parse outcome when the head is malformed; `head.error` holds the status to answer. */
export const MALFORMED = -2;

const CR = 13;
const LF = 10;
const SP = 32;
const HTAB = 9;
const COLON = 58;

/** tchar (RFC 9110 5.6.2): a lookup table beats a chain of range checks per byte. */
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 48; c <= 57; c++) TCHAR[c] = 1;
for (let c = 65; c <= 90; c++) TCHAR[c] = 1;
for (let c = 97; c <= 122; c++) TCHAR[c] = 1;

/** Bytes allowed in a field value or reason phrase: HTAB, SP, VCHAR, obs-text. */
const VALUE_OK = new Uint8Array(256);
VALUE_OK[HTAB] = 1;
for (let c = 32; c < 256; c++) if (c !== 127) VALUE_OK[c] = 1;

/**
 * Parses a request head starting at `start`. Returns the offset past the head, INCOMPLETE, or
 * MALFORMED (with `h.error` set).
 */
export function parseRequestHead(buf: Buffer, start: number, h: MessageHead): number {
  const end = findHeadEnd(buf, start, h, 431);
  if (end < 0) return end;
  h.reset(start);
  h.error = 400;
  // request-line = method SP request-target SP HTTP-version CRLF
  let p = start;
  while (TCHAR[buf[p] as number] === 1) p++;
  if (p === start || buf[p] !== SP) return MALFORMED;
  h.methodStart = start;
  h.methodEnd = p;
  h.isHead = p - start === 4 && buf[start] === 72 && buf[start + 1] === 69 && buf[start + 2] === 65 && buf[start + 3] === 68;
  const t = ++p;
  while ((buf[p] as number) > SP && buf[p] !== 127) p++;
  if (p === t || buf[p] !== SP) return MALFORMED;
  h.targetStart = t;
  h.targetEnd = p;
  p++;
  if (!isVersion(buf, p, h)) return MALFORMED;
  p += 8;
  if (buf[p] !== CR || buf[p + 1] !== LF) return MALFORMED;
  h.startLineEnd = p + 2;
  if (!parseFields(buf, h.startLineEnd, end, h)) return MALFORMED;
  // Framing rules for requests (RFC 9112 6.1, 6.3).
  if (h.chunked || h.otherEncoding) {
    if (h.contentLength !== -1 || h.otherEncoding || h.version === 10) return MALFORMED;
  }
  if (h.version === 11 && h.hostCount !== 1) return MALFORMED;
  if (h.hostCount > 1) return MALFORMED;
  h.error = 0;
  h.headEnd = end;
  return end;
}

/** Parses a response head; errors are reported as 502. */
export function parseResponseHead(buf: Buffer, start: number, h: MessageHead): number {
  const end = findHeadEnd(buf, start, h, 502);
  if (end < 0) return end;
  h.reset(start);
  h.error = 502;
  // status-line = HTTP-version SP 3DIGIT SP [ reason-phrase ] CRLF
  if (!isVersion(buf, start, h)) return MALFORMED;
  let p = start + 8;
  if (buf[p] !== SP) return MALFORMED;
  const d0 = (buf[p + 1] as number) - 48;
  const d1 = (buf[p + 2] as number) - 48;
  const d2 = (buf[p + 3] as number) - 48;
  if (d0 < 1 || d0 > 5 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) return MALFORMED;
  h.status = d0 * 100 + d1 * 10 + d2;
  p += 4;
  if (buf[p] === SP) {
    p++;
    while (buf[p] !== CR) {
      if (VALUE_OK[buf[p] as number] !== 1) return MALFORMED;
      p++;
    }
  }
  if (buf[p] !== CR || buf[p + 1] !== LF) return MALFORMED;
  h.startLineEnd = p + 2;
  if (!parseFields(buf, h.startLineEnd, end, h)) return MALFORMED;
  if (h.contentLength !== -1 && (h.chunked || h.otherEncoding)) return MALFORMED;
  h.error = 0;
  h.headEnd = end;
  return end;
}

function isVersion(buf: Buffer, p: number, h: MessageHead): boolean {
  // "HTTP/1." then '0' or '1'; 8 fixed bytes, compared directly.
  if (buf[p] !== 72 || buf[p + 1] !== 84 || buf[p + 2] !== 84 || buf[p + 3] !== 80) return false;
  if (buf[p + 4] !== 47 || buf[p + 5] !== 49 || buf[p + 6] !== 46) return false;
  const minor = buf[p + 7];
  if (minor === 49) h.version = 11;
  else if (minor === 48) h.version = 10;
  else return false;
  return true;
}

/**
 * Finds the end of the head (offset past CRLFCRLF), INCOMPLETE, or MALFORMED. Every LF must
 * follow a CR; checking that while searching costs one indexOf per line. An incomplete head
 * remembers how far it got (relative to its start), so a head that trickles in byte by byte
 * is scanned once, not once per read.
 */
function findHeadEnd(buf: Buffer, start: number, h: MessageHead, tooBig: number): number {
  const bad = tooBig === 431 ? 400 : 502;
  let p = start + h.scanOffset;
  for (;;) {
    const lf = buf.indexOf(LF, p);
    if (lf < 0) break;
    // The bound before the bare-LF check: a prefix that is already past maxBytes is refused
    // 431, so the whole input must be too, whatever sits after the bound.
    if (lf - start >= h.maxBytes) break;
    if (lf === start || buf[lf - 1] !== CR) {
      h.scanOffset = 0;
      h.error = bad;
      return MALFORMED;
    }
    if (lf - 1 === p) {
      // An empty line: the end of the head, or an empty start line (refused, not skipped).
      h.scanOffset = 0;
      if (p === start) {
        h.error = bad;
        return MALFORMED;
      }
      return lf + 1;
    }
    p = lf + 1;
  }
  if (buf.length - start > h.maxBytes) {
    h.scanOffset = 0;
    h.error = tooBig;
    return MALFORMED;
  }
  h.scanOffset = p - start;
  return INCOMPLETE;
}

/** Parses field lines in [p, end) where end is past the final blank line. */
function parseFields(buf: Buffer, p: number, end: number, h: MessageHead): boolean {
  const last = end - 2; // the blank line's CR
  while (p < last) {
    if (h.count === h.maxFields) {
      h.error = h.error === 400 ? 431 : h.error;
      return false;
    }
    const ls = p;
    // field-name: token, then ':' with no whitespace before it (and no obs-fold line start).
    while (TCHAR[buf[p] as number] === 1) p++;
    if (p === ls || buf[p] !== COLON) return false;
    const nameLen = p - ls;
    p++;
    while (buf[p] === SP || buf[p] === HTAB) p++;
    const vs = p;
    while (buf[p] !== CR) {
      if (VALUE_OK[buf[p] as number] !== 1) return false; // a CTL, including a lone CR's neighbours
      p++;
    }
    let ve = p;
    while (ve > vs && (buf[ve - 1] === SP || buf[ve - 1] === HTAB)) ve--;
    if (buf[p + 1] !== LF) return false;
    p += 2;
    const i = h.count++;
    h.lineStart[i] = ls;
    h.lineEnd[i] = p;
    h.drop[i] = 0;
    if (!fieldSemantics(buf, ls, nameLen, vs, ve, h, i)) return false;
  }
  if (h.connTokens !== null) markConnectionTokens(buf, h);
  return true;
}

