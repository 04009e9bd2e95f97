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
  let v: string | null = null;
  forEachField(head, (n, value) => {
    if (n !== name) return false;
    v = value;
    return true;
  });
  return v;
}

/** The value of cookie `name` in any Cookie field (RFC 6265 `name=value; name2=value2`). */
function cookieValue(head: Buffer, name: string): string | null {
  let v: string | null = null;
  forEachField(head, (n, value) => {
    if (n !== 'cookie') return false;
    for (const pair of value.split(';')) {
      const eq = pair.indexOf('=');
      if (eq > 0 && pair.slice(0, eq).trim() === name) {
        v = pair.slice(eq + 1).trim();
        return true;
      }
    }
    return false;
  });
  return v;
}

/** Calls `f(lower-case name, trimmed value)` per header field until it returns true. */
function forEachField(head: Buffer, f: (name: string, value: string) => boolean): void {
  let end = head.indexOf('\r\n\r\n');
  if (end < 0) end = head.length;
  const text = head.toString('latin1', 0, end);
  let at = text.indexOf('\r\n') + 2; // past the request line
  while (at > 1 && at < text.length) {
    let eol = text.indexOf('\r\n', at);
    if (eol < 0) eol = text.length;
    const colon = text.indexOf(':', at);
    if (colon > at && colon < eol && f(text.slice(at, colon).toLowerCase(), text.slice(colon + 1, eol).trim())) return;
    at = eol + 2;
  }
}
