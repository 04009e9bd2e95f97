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

/** Envoy's defaults (max_request_headers_kb 60, max_headers_count 100), for both directions. */
export const MAX_HEAD_BYTES = 60 * 1024;
export const MAX_HEADERS = 100;
/** The most a listener may allow (`maxRequestHeadersKb` 1024, `maxRequestHeaders` 1000). */
export const HEAD_BYTES_CAP = 1024 * 1024;
export const HEADERS_CAP = 1000;

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

/** Header names the codec acts on, as lowercase bytes; matched by length first. */
const H_CONTENT_LENGTH = bytes('content-length');
const H_TRANSFER_ENCODING = bytes('transfer-encoding');
const H_CONNECTION = bytes('connection');
const H_KEEP_ALIVE = bytes('keep-alive');
const H_PROXY_CONNECTION = bytes('proxy-connection');
const H_HOST = bytes('host');
const H_TE = bytes('te');
const H_UPGRADE = bytes('upgrade');
const H_XFF = bytes('x-forwarded-for');
const H_XFP = bytes('x-forwarded-proto');
const H_REQUEST_ID = bytes('x-request-id');
const V_CHUNKED = bytes('chunked');
const V_CLOSE = bytes('close');

function bytes(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

/** Case-insensitive compare of buf[start, start+name.length) with a lowercase name. */
function eqLower(buf: Buffer, start: number, len: number, name: Uint8Array): boolean {
  if (len !== name.length) return false; // length first: most headers differ here
  for (let i = 0; i < len; i++) {
    // `| 0x20` lowercases ASCII letters and leaves '-' and digits alone.
    if (((buf[start + i] as number) | 0x20) !== name[i]) return false;
  }
  return true;
}

const LINE_START = new Int32Array(HEADERS_CAP);
const LINE_END = new Int32Array(HEADERS_CAP);
const LINE_DROP = new Uint8Array(HEADERS_CAP);

export class MessageHead {
  /** Status to answer when parsing fails (400 or 431 for requests, 502 for responses). */
  error = 0;
  /** Limits of this direction's heads: past them, 431 (requests) or 502 (responses). */
  maxBytes = MAX_HEAD_BYTES;
  maxFields = MAX_HEADERS;
  /** 10 or 11. */
  version = 11;
  // request line
  methodStart = 0;
  methodEnd = 0;
  targetStart = 0;
  targetEnd = 0;
  isHead = false;
  // status line
  status = 0;
  /** Offset just past the CRLF of the start line. */
  startLineEnd = 0;
  /** Offset just past the blank line that ends the head. */
  headEnd = 0;
  headStart = 0;
  count = 0;
  /**
   * Per header line: start offset, offset past its CRLF, and whether to drop it when forwarding.
   * One set per thread, shared by every head: a head's lines are read only in the same
   * synchronous call that parsed it (parse → route → rewrite → write), so two heads never need
   * them at once. Per-connection arrays (two heads, three typed arrays each, ~2.3 KiB plus six
   * ArrayBuffers) took 3 % of the worker's self time at 3.1k new connections/s (L7
   * `Connection: close`, wrk -c50; `<instance_members_initializer>` of this class) and most of
   * an idle keep-alive connection's bytes.
   */
  readonly lineStart = LINE_START;
  readonly lineEnd = LINE_END;
  readonly drop = LINE_DROP;
  dropCount = 0;
  /** -1 when absent. */
  contentLength = -1;
  chunked = false;
  /** Transfer-Encoding present with a final coding other than chunked. */
  otherEncoding = false;
  connClose = false;
  connKeepAlive = false;
  hostCount = 0;
  /** Extra hop-by-hop names listed in Connection (lowercased), or null: the common case. */
  connTokens: string[] | null = null;
  /** Connection lists `upgrade`. */
  connUpgrade = false;
  /** Index of the Upgrade line (dropped unless the exchange keeps it), or -1. */
  upgradeLine = -1;
  /** Index of the Transfer-Encoding line, or -1. */
  teLine = -1;
  /** Indexes of the X-Forwarded-For lines, or null (the proxy appends to them). */
  xffLines: number[] | null = null;
  /** Index of the X-Forwarded-Proto line (the proxy replaces it), or -1. */
  xfpLine = -1;
  /** An X-Request-Id came with the request. */
  hasRequestId = false;
  /** Index of the Host line, or -1. */
  hostLine = -1;
  /** Where the search for the end of an incomplete head resumes, relative to its start. */
  scanOffset = 0;

  reset(start: number): void {
    this.error = 0;
    this.headStart = start;
    this.count = 0;
    this.dropCount = 0;
    this.contentLength = -1;
    this.chunked = false;
    this.otherEncoding = false;
    this.connClose = false;
    this.connKeepAlive = false;
    this.hostCount = 0;
    this.connTokens = null;
    this.connUpgrade = false;
    this.upgradeLine = -1;
    this.teLine = -1;
    this.xffLines = null;
    this.xfpLine = -1;
    this.hasRequestId = false;
    this.hostLine = -1;
    this.isHead = false;
    this.status = 0;
  }

  /** Forwards line `i` after all (an upgrade that is going ahead). */
  keepLine(i: number): void {
    if (this.drop[i] === 1) {
      this.drop[i] = 0;
      this.dropCount--;
    }
  }

  /** The value of header line `i` of the head in `buf`, trimmed. */
  value(buf: Buffer, i: number): string {
    const ls = this.lineStart[i] as number;
    return buf.toString('latin1', buf.indexOf(COLON, ls) + 1, (this.lineEnd[i] as number) - 2).trim();
  }

  /** Drops line `i` when forwarding (a field the next hop must not see). */
  dropLine(i: number): void {
    dropLine(this, i);
  }
}

/** The head's forwarded fields as a flat `[name, value, ...]` list, names lower-cased. */
export function headerFields(buf: Buffer, h: MessageHead): string[] {
  const out: string[] = [];
  for (let i = 0; i < h.count; i++) {
    if (h.drop[i] === 1) continue;
    const ls = h.lineStart[i] as number;
    out.push(buf.toString('latin1', ls, buf.indexOf(COLON, ls)).toLowerCase(), h.value(buf, i));
  }
  return out;
}

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
    if (lf === start || buf[lf - 1] !== CR) {
      h.scanOffset = 0;
      h.error = bad;
      return MALFORMED;
    }
    if (lf - start >= h.maxBytes) break;
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

function fieldSemantics(buf: Buffer, ns: number, nl: number, vs: number, ve: number, h: MessageHead, i: number): boolean {
  switch (nl) {
    case 14:
      if (eqLower(buf, ns, nl, H_CONTENT_LENGTH)) return contentLength(buf, vs, ve, h);
      return true;
    case 17:
      if (eqLower(buf, ns, nl, H_TRANSFER_ENCODING)) {
        if (h.chunked || h.otherEncoding) return false; // one TE line only: no list merging games
        h.teLine = i;
        if (ve - vs === 7 && eqLower(buf, vs, 7, V_CHUNKED)) h.chunked = true;
        else h.otherEncoding = true;
      } else if (eqLower(buf, ns, nl, H_XFP)) h.xfpLine = i;
      return true;
    case 15:
      if (eqLower(buf, ns, nl, H_XFF)) (h.xffLines ??= []).push(i);
      return true;
    case 12:
      if (eqLower(buf, ns, nl, H_REQUEST_ID)) h.hasRequestId = true;
      return true;
    case 10:
      if (eqLower(buf, ns, nl, H_CONNECTION)) {
        dropLine(h, i);
        connectionTokens(buf, vs, ve, h);
      } else if (eqLower(buf, ns, nl, H_KEEP_ALIVE)) dropLine(h, i);
      return true;
    case 16:
      if (eqLower(buf, ns, nl, H_PROXY_CONNECTION)) dropLine(h, i);
      return true;
    case 4:
      if (eqLower(buf, ns, nl, H_HOST)) {
        h.hostCount++;
        h.hostLine = i;
      }
      return true;
    case 2:
      if (eqLower(buf, ns, nl, H_TE)) dropLine(h, i);
      return true;
    case 7:
      if (eqLower(buf, ns, nl, H_UPGRADE)) {
        // Dropped unless the connection manager takes the upgrade: never half-forward one.
        h.upgradeLine = i;
        dropLine(h, i);
      }
      return true;
    default:
      return true;
  }
}

function dropLine(h: MessageHead, i: number): void {
  if (h.drop[i] === 0) {
    h.drop[i] = 1;
    h.dropCount++;
  }
}

function contentLength(buf: Buffer, vs: number, ve: number, h: MessageHead): boolean {
  if (ve === vs || ve - vs > 15) return false; // 15 digits stay exact in a double
  let n = 0;
  for (let p = vs; p < ve; p++) {
    const d = (buf[p] as number) - 48;
    if (d < 0 || d > 9) return false;
    n = n * 10 + d;
  }
  if (h.contentLength !== -1 && h.contentLength !== n) return false;
  h.contentLength = n;
  return true;
}

function connectionTokens(buf: Buffer, vs: number, ve: number, h: MessageHead): void {
  // Fast path for the two values nearly every peer sends (nginx: "keep-alive" on each
  // response): byte compares instead of a string split; it was the top JS frame in the profile.
  const n = ve - vs;
  if (n === 10 && eqLower(buf, vs, n, H_KEEP_ALIVE)) {
    h.connKeepAlive = true;
    return;
  }
  if (n === 5 && eqLower(buf, vs, n, V_CLOSE)) {
    h.connClose = true;
    return;
  }
  for (const raw of buf.toString('latin1', vs, ve).split(',')) {
    const tok = raw.trim().toLowerCase();
    if (tok.length === 0) continue;
    if (tok === 'close') h.connClose = true;
    else if (tok === 'keep-alive') h.connKeepAlive = true;
    else if (tok === 'upgrade') h.connUpgrade = true;
    // Never let Connection strip the framing headers or Host.
    else if (tok !== 'content-length' && tok !== 'transfer-encoding' && tok !== 'host') (h.connTokens ??= []).push(tok);
  }
}

/** Rare path: Connection named other headers; drop those lines too. */
function markConnectionTokens(buf: Buffer, h: MessageHead): void {
  const tokens = h.connTokens as string[];
  for (let i = 0; i < h.count; i++) {
    if (h.drop[i] === 1) continue;
    const s = h.lineStart[i] as number;
    const colon = buf.indexOf(COLON, s);
    const name = buf.toString('latin1', s, colon).toLowerCase();
    if (tokens.includes(name)) dropLine(h, i);
  }
}
