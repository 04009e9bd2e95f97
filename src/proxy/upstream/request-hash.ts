/**
 * The hash a request carries for ringHash and maglev (`hashOn`): of a header's value, a
 * cookie's value or the client's address. Read from the HTTP/1.1 head the exchange sends
 * upstream, which every downstream codec produces, so one reader serves HTTP/1 and HTTP/2.
 * Only clusters with `hashOn` pay for it. A request without the header or cookie has no hash
 * (-1): the policy then picks at random, as Envoy's does (it does not mint a cookie).
 */
import type { HashOnConfig } from '../../config/types.js';
import { hash32 } from '../lb/index.js';

export function requestHash(on: HashOnConfig, head: Buffer, clientIp: string): number {
  if ('sourceIp' in on) return hash32(clientIp);
  if ('header' in on) {
    const v = headerValue(head, on.header.toLowerCase());
    return v === null ? -1 : hash32(v);
  }
  const v = cookieValue(head, on.cookie);
  return v === null ? -1 : hash32(v);
}

/** The first field named `name` (lower case), trimmed; null when absent. */
function headerValue(head: Buffer, name: string): string | null {
  const text = headText(head);
  const at = fieldAt(text, name, firstField(text));
  return at < 0 ? null : fieldValue(text, at, name.length);
}

/** The value of cookie `name` in any Cookie field (RFC 6265 `name=value; name2=value2`). */
function cookieValue(head: Buffer, name: string): string | null {
  const text = headText(head);
  for (let at = fieldAt(text, 'cookie', firstField(text)); at >= 0; at = fieldAt(text, 'cookie', nextField(text, at))) {
    for (const pair of fieldValue(text, at, 6).split(';')) {
      const eq = pair.indexOf('=');
      if (eq > 0 && pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim();
    }
  }
  return null;
}

/** The head up to its blank line, as text (the bytes after it may be body). */
function headText(head: Buffer): string {
  const end = head.indexOf('\r\n\r\n');
  return head.toString('latin1', 0, end < 0 ? head.length : end + 2);
}

/** Offset of the first field line (past the request line), or -1. */
function firstField(text: string): number {
  const eol = text.indexOf('\r\n');
  return eol < 0 ? -1 : eol + 2;
}

/** Offset of the line after the one at `at`, or -1. */
function nextField(text: string, at: number): number {
  const eol = text.indexOf('\r\n', at);
  return eol < 0 || eol + 2 >= text.length ? -1 : eol + 2;
}

/** Offset of the first field line from `at` on whose name is `name` (case-insensitive), or -1. */
function fieldAt(text: string, name: string, at: number): number {
  for (; at >= 0; at = nextField(text, at)) {
    if (text.charCodeAt(at + name.length) === COLON && text.slice(at, at + name.length).toLowerCase() === name) return at;
  }
  return -1;
}

/** The trimmed value of the field line at `at` whose name is `nameLength` long. */
function fieldValue(text: string, at: number, nameLength: number): string {
  const eol = text.indexOf('\r\n', at);
  return text.slice(at + nameLength + 1, eol < 0 ? text.length : eol).trim();
}

const COLON = 58;
