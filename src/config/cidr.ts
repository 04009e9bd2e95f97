/**
 * CIDR ranges (`10.0.0.0/8`, `2001:db8::/32`) for filter chain matching: parsed once when the
 * config is checked, and tested against client addresses as bytes. A range is kept in
 * canonical form, host bits cleared (`10.1.2.3/8` is `10.0.0.0/8`, as Envoy reads it), so
 * two spellings of one range compare equal. The config keeps the canonical text (it is plain
 * data: hashed as JSON, frozen, posted to workers); the snapshot parses it again into bytes.
 */
import { SocketAddress, isIPv4, isIPv6 } from 'node:net';

export interface Cidr {
  /** The network address, host bits cleared: 4 bytes (IPv4) or 16 (IPv6). */
  readonly bytes: Uint8Array;
  readonly prefix: number;
  /** `address/prefix`, canonical: compressed IPv6, host bits zero. */
  readonly text: string;
}

export type CidrResult = { readonly ok: true; readonly cidr: Cidr } | { readonly ok: false; readonly message: string };

const SYNTAX = 'must be a CIDR range such as 10.0.0.0/8 or 2001:db8::/32';

export function parseCidr(text: string): CidrResult {
  const slash = text.indexOf('/');
  if (slash < 0) return { ok: false, message: SYNTAX };
  const addr = text.slice(0, slash);
  const len = text.slice(slash + 1);
  const v4 = isIPv4(addr);
  if (!v4 && !isIPv6(addr)) return { ok: false, message: SYNTAX };
  const max = v4 ? 32 : 128;
  if (!/^(0|[1-9][0-9]{0,2})$/.test(len) || Number(len) > max) return { ok: false, message: `the prefix length must be 0..${max}` };
  const prefix = Number(len);
  const bytes = v4 ? Uint8Array.from(addr.split('.'), Number) : (expandIPv6(addr) as Uint8Array);
  for (let bit = prefix; bit < max; bit++) bytes[bit >> 3] = (bytes[bit >> 3] as number) & ~(0x80 >> (bit & 7));
  return { ok: true, cidr: { bytes, prefix, text: `${bytesToText(bytes)}/${prefix}` } };
}

/**
 * An address as bytes: 4 for IPv4, 16 for IPv6; an IPv4-mapped IPv6 address (`::ffff:1.2.3.4`,
 * what a dual-stack socket reports for an IPv4 client) as its 4 IPv4 bytes. Null if it is not an address.
 */
export function addressBytes(addr: string): Uint8Array | null {
  if (isIPv4(addr)) return Uint8Array.from(addr.split('.'), Number);
  if (!isIPv6(addr)) return null;
  const full = expandIPv6(addr);
  if (full === null) return null;
  const mapped = full.slice(0, 10).every((b) => b === 0) && full[10] === 0xff && full[11] === 0xff;
  return mapped ? full.slice(12) : full;
}

/** `bytes` (same family) fall in `cidr`. */
export function cidrContains(cidr: Cidr, bytes: Uint8Array): boolean {
  if (bytes.length !== cidr.bytes.length) return false;
  const whole = cidr.prefix >> 3;
  for (let i = 0; i < whole; i++) if (bytes[i] !== cidr.bytes[i]) return false;
  const rest = cidr.prefix & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return ((bytes[whole] as number) & mask) === cidr.bytes[whole];
}

function expandIPv6(addr: string): Uint8Array | null {
  if (addr.includes('%')) return null;
  let text = addr;
  // A dotted IPv4 tail becomes two hex groups.
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const b = tail.split('.').map(Number);
    text = `${text.slice(0, lastColon + 1)}${(((b[0] as number) << 8) | (b[1] as number)).toString(16)}:${(((b[2] as number) << 8) | (b[3] as number)).toString(16)}`;
  }
  const halves = text.split('::');
  const head = halves[0] === '' ? [] : (halves[0] as string).split(':');
  const back = halves.length < 2 || halves[1] === '' ? [] : (halves[1] as string).split(':');
  const groups = halves.length === 2 ? [...head, ...Array<string>(8 - head.length - back.length).fill('0'), ...back] : head;
  if (groups.length !== 8) return null;
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    out[i * 2] = v >> 8;
    out[i * 2 + 1] = v & 0xff;
  });
  return out;
}

function bytesToText(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((bytes[i] as number) << 8) | (bytes[i + 1] as number)).toString(16));
  return new SocketAddress({ address: groups.join(':'), family: 'ipv6' }).address;
}
