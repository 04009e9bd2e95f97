/**
 * The fields every proxied request carries to its upstream, as Envoy adds them at the edge:
 * `x-forwarded-for` gets the client's address appended (after whatever earlier proxies put
 * there), `x-forwarded-proto` says the scheme the client used (a value from the client is
 * replaced, never trusted), and `x-request-id` is generated when the request has none.
 */
import { randomUUID } from 'node:crypto';

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
