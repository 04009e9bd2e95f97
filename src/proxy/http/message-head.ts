/**
 * One parsed message head (request or response) as offsets into the buffer it was read from,
 * with the framing facts the codec found and the limits it parses against. head.ts fills it.
 */

/** Envoy's defaults (max_request_headers_kb 60, max_headers_count 100), for both directions. */
export const MAX_HEAD_BYTES = 60 * 1024;
export const MAX_HEADERS = 100;
/** The most fields a listener may allow (`maxRequestHeaders`, checked by the config at 1..1000). */
const HEADERS_CAP = 1000;
const COLON = 58;
const SP = 32;
const HTAB = 9;

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

  /**
   * The value of header line `i` of the head in `buf`, less leading and trailing SP/HTAB: the
   * only optional whitespace there is (RFC 9110 5.5). Not `String.prototype.trim()`, which also
   * strips 0xA0 (latin1 NBSP), a value byte the next hop sees.
   */
  value(buf: Buffer, i: number): string {
    return fieldValue(buf, buf.indexOf(COLON, this.lineStart[i] as number) + 1, (this.lineEnd[i] as number) - 2);
  }

  /** Drops line `i` when forwarding (a field the next hop must not see). */
  dropLine(i: number): void {
    if (this.drop[i] === 0) {
      this.drop[i] = 1;
      this.dropCount++;
    }
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

/** buf[vs, ve) as a string, less leading and trailing SP/HTAB (see `MessageHead.value`). */
export function fieldValue(buf: Buffer, vs: number, ve: number): string {
  let s = vs;
  let e = ve;
  while (s < e && (buf[s] === SP || buf[s] === HTAB)) s++;
  while (e > s && (buf[e - 1] === SP || buf[e - 1] === HTAB)) e--;
  return buf.toString('latin1', s, e);
}
