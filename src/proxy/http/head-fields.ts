/**
 * What the codec makes of particular header fields while it parses a head: framing
 * (Content-Length, Transfer-Encoding), hop-by-hop fields to drop (Connection and what it
 * names, Keep-Alive, TE, Upgrade), and the lines the proxy rewrites (Host, X-Forwarded-*,
 * X-Request-Id). Names are compared as bytes, length first, without making strings.
 */
import type { MessageHead } from './message-head.js';

const COLON = 58;

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
const OWS_EDGES = /^[ \t]+|[ \t]+$/g;

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

export function fieldSemantics(buf: Buffer, ns: number, nl: number, vs: number, ve: number, h: MessageHead, i: number): boolean {
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
      if (eqLower(buf, ns, nl, H_XFF)) {
        h.xffLines ??= [];
        h.xffLines.push(i);
      }
      return true;
    case 12:
      if (eqLower(buf, ns, nl, H_REQUEST_ID)) h.hasRequestId = true;
      return true;
    case 10:
      if (eqLower(buf, ns, nl, H_CONNECTION)) {
        h.dropLine(i);
        connectionTokens(buf, vs, ve, h);
      } else if (eqLower(buf, ns, nl, H_KEEP_ALIVE)) h.dropLine(i);
      return true;
    case 16:
      if (eqLower(buf, ns, nl, H_PROXY_CONNECTION)) h.dropLine(i);
      return true;
    case 4:
      if (eqLower(buf, ns, nl, H_HOST)) {
        h.hostCount++;
        h.hostLine = i;
      }
      return true;
    case 2:
      if (eqLower(buf, ns, nl, H_TE)) h.dropLine(i);
      return true;
    case 7:
      if (eqLower(buf, ns, nl, H_UPGRADE)) {
        // Dropped unless the connection manager takes the upgrade: never half-forward one.
        h.upgradeLine = i;
        h.dropLine(i);
      }
      return true;
    default:
      return true;
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
    // Only SP/HTAB are OWS: trim() would also strip 0xA0 and read "close\xa0" as close.
    const tok = raw.replace(OWS_EDGES, '').toLowerCase();
    if (tok.length === 0) continue;
    if (tok === 'close') h.connClose = true;
    else if (tok === 'keep-alive') h.connKeepAlive = true;
    else if (tok === 'upgrade') h.connUpgrade = true;
    // Never let Connection strip the framing headers or Host.
    else if (tok !== 'content-length' && tok !== 'transfer-encoding' && tok !== 'host') {
      h.connTokens ??= [];
      h.connTokens.push(tok);
    }
  }
}

/** Rare path: Connection named other headers; drop those lines too. */
export function markConnectionTokens(buf: Buffer, h: MessageHead): void {
  const tokens = h.connTokens as string[];
  for (let i = 0; i < h.count; i++) {
    if (h.drop[i] === 1) continue;
    const s = h.lineStart[i] as number;
    const colon = buf.indexOf(COLON, s);
    const name = buf.toString('latin1', s, colon).toLowerCase();
    if (tokens.includes(name)) h.dropLine(i);
  }
}
