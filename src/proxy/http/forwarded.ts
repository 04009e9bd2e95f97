/**
 * The fields every proxied request carries to its upstream, as Envoy adds them at the edge:
 * `x-forwarded-for` gets the client's address appended (after whatever earlier proxies put
 * there), `x-forwarded-proto` says the scheme the client used (a value from the client is
 * replaced, never trusted), and `x-request-id` is generated when the request has none.
 */
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';

/**
 * Request fields never copied to the upstream hop when a head is rebuilt from fields (HTTP/2,
 * or through filters): the hop-by-hop ones, `host` (written from the authority), and the ones
 * `forwardedLines` writes.
 */
export const NOT_FORWARDED = new Set(['host', 'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'http2-settings', 'x-forwarded-for', 'x-forwarded-proto']);
/** Response fields of the HTTP/1 hop that the downstream codec decides itself. */
export const NOT_RELAYED = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

/**
 * Fields never forwarded in a request's trailer section: the hop-by-hop ones, and those that
 * framing, routing, authentication or the message's handling depend on, which a sender may
 * not put there (RFC 9110 6.5.1) and a recipient must not act on late.
 */
const NOT_IN_TRAILERS = new Set([...NOT_FORWARDED, 'content-length', 'content-type', 'content-encoding', 'content-range', 'trailer', 'expect', 'range', 'authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'cache-control', 'max-forwards', 'if-match', 'if-none-match', 'if-modified-since', 'if-unmodified-since', 'if-range']);

/** The last chunk of a chunked request body, with `trailers` (flat: name, value, ...; lower-case names) as its trailer section. */
export function lastChunkWithTrailers(trailers: readonly string[]): Buffer {
  let out = '0\r\n';
  for (let i = 0; i + 1 < trailers.length; i += 2) {
    const name = trailers[i] as string;
    if (name.charCodeAt(0) !== 58 && !NOT_IN_TRAILERS.has(name)) out += `${name}: ${trailers[i + 1] as string}\r\n`;
  }
  return Buffer.from(`${out}\r\n`, 'latin1');
}

/** The scheme the client used on `socket`. */
export function schemeOf(socket: Socket): 'http' | 'https' {
  return (socket as Partial<TLSSocket>).encrypted === true ? 'https' : 'http';
}

/**
 * The lines to add, each ending in CRLF. `priorXff` is the client's X-Forwarded-For value, or
 * "". `requestId`: the id to add (undefined: make one), or null when the request has its own.
 */
export function forwardedLines(priorXff: string, clientIp: string, scheme: string, requestId: string | null | undefined): string {
  const xff = priorXff === '' ? clientIp : `${priorXff}, ${clientIp}`;
  let out = `x-forwarded-for: ${xff}\r\nx-forwarded-proto: ${scheme}\r\n`;
  if (requestId !== null) out += `x-request-id: ${requestId ?? randomUUID()}\r\n`;
  return out;
}
