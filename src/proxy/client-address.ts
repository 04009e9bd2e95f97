/**
 * The client's address as everything after the listener filters sees it. A listener filter
 * that learns the real client (the PROXY protocol) records it against the socket here;
 * `socket.remoteAddress` stays what the kernel says (it is a getter over getpeername(2), and
 * patching it would lie to code that needs the real peer, such as TLS pairing). Readers
 * (x-forwarded-for, access logs, header variables) go through these functions, which fall
 * back to the socket's own addresses when nothing was recorded.
 *
 * A WeakMap keyed by the socket: an entry lives exactly as long as its socket, and a socket
 * accepted without a listener filter costs one failed lookup per read.
 */
import type { Socket } from 'node:net';
import type { ProxiedAddresses } from './listener-filters/proxy-protocol-parser.js';

const proxied = new WeakMap<Socket, ProxiedAddresses>();

/** From now on `socket`'s client (and local) address is the one in `addresses`. */
export function setProxiedAddresses(socket: Socket, addresses: ProxiedAddresses): void {
  proxied.set(socket, addresses);
}

/** `to` wraps `from` (a `TLSSocket` over the accepted socket): it speaks for the same client. */
export function inheritProxiedAddresses(from: Socket, to: Socket): void {
  const a = proxied.get(from);
  if (a !== undefined) proxied.set(to, a);
}

/** The client's IP address: from a listener filter, else the peer's. '' when the socket is gone. */
export function clientAddress(socket: Socket): string {
  const a = proxied.get(socket);
  return a !== undefined ? a.source.address : (socket.remoteAddress ?? '');
}

export function clientPort(socket: Socket): number {
  const a = proxied.get(socket);
  return a !== undefined ? a.source.port : (socket.remotePort ?? 0);
}

/** The address the client connected to: from a listener filter (the header's destination), else ours. */
export function localAddress(socket: Socket): string {
  const a = proxied.get(socket);
  return a !== undefined ? a.destination.address : (socket.localAddress ?? '');
}

export function localPort(socket: Socket): number {
  const a = proxied.get(socket);
  return a !== undefined ? a.destination.port : (socket.localPort ?? 0);
}
