import { isIPv4, isIPv6 } from 'node:net';
import type { SocketAddress } from './types.js';

/**
 * Addresses are written `host:port`, where host is an IPv4 literal, a bracketed IPv6 literal
 * (`[::1]:8080`) or `localhost`. Other host names are refused for now: resolving them belongs
 * to DNS discovery, which must not happen silently while a config is being validated.
 */

export type AddressResult = { ok: true; address: SocketAddress } | { ok: false; message: string };

const HOST_PORT = /^(\[[^\]]*\]|[^:[\]]*):(\d{1,5})$/;

export function parseAddress(text: string): AddressResult {
  const m = HOST_PORT.exec(text);
  if (m === null) return { ok: false, message: `"${text}" is not host:port (IPv4, [IPv6] or localhost, then a port)` };
  const rawHost = m[1] ?? '';
  const port = Number(m[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return { ok: false, message: `port ${m[2]} is outside 1..65535` };
  if (rawHost.startsWith('[')) {
    const v6 = rawHost.slice(1, -1);
    if (!isIPv6(v6)) return { ok: false, message: `"${v6}" is not an IPv6 address` };
    // The URL parser gives the compressed, lower-case form, so [0:0::1] and [::1] compare equal.
    return { ok: true, address: { host: new URL(`http://[${v6}]/`).hostname.slice(1, -1), port } };
  }
  if (rawHost === 'localhost' || isIPv4(rawHost)) return { ok: true, address: { host: rawHost, port } };
  return { ok: false, message: `host "${rawHost}" must be an IPv4 address, a bracketed IPv6 address or localhost` };
}

/** The `host:port` spelling of an address, with brackets around IPv6 hosts. */
export function formatAddress(a: SocketAddress): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/**
 * Whether two listening addresses would fight over the same port: the same host, or a
 * wildcard (0.0.0.0, ::) against any address of its family. `::` also takes IPv4 on a
 * dual-stack host, and `localhost` may resolve to either family, so both count as both.
 */
export function addressesOverlap(a: SocketAddress, b: SocketAddress): boolean {
  if (a.port !== b.port) return false;
  if (a.host === b.host) return true;
  return covers(a.host, b.host) || covers(b.host, a.host);
}

function covers(wildcard: string, host: string): boolean {
  if (wildcard === '::') return true;
  if (wildcard === '0.0.0.0') return isIPv4(host) || host === 'localhost';
  return false;
}
