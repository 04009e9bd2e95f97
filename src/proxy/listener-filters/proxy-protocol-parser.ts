/**
 * The PROXY protocol header (HAProxy's spec, versions 1 and 2), parsed from the first bytes a
 * client sends. Pure: bytes in, a verdict out; the listener filter does the socket work.
 *
 * Wire format, as accepted here:
 *
 * - v1, text: `PROXY TCP4 <src> <dst> <sport> <dport>\r\n` (or `TCP6`), single spaces, ports
 *   0..65535 in decimal without leading zeros; or `PROXY UNKNOWN` followed by anything up to
 *   the CRLF. The whole line, CRLF included, is at most 107 bytes: no CRLF by then is an error.
 * - v2, binary: the 12-byte signature `\r\n\r\n\0\r\nQUIT\n`; one byte version (high nibble,
 *   must be 2) and command (low nibble: 0 LOCAL, 1 PROXY); one byte address family (high:
 *   0 UNSPEC, 1 INET, 2 INET6, 3 UNIX) and transport (low: 0 UNSPEC, 1 STREAM, 2 DGRAM); a
 *   16-bit big-endian length of what follows; then the addresses (INET: 4+4+2+2 bytes, INET6:
 *   16+16+2+2, UNIX: 108+108) and TLVs (type: 1 byte, length: 16 bits, value) to the end.
 *   TLVs are checked for framing and skipped. What follows the 16 fixed bytes is bounded by
 *   `MAX_V2_PAYLOAD`, far below the 64 KiB the length field allows, so a client cannot make the
 *   proxy buffer much before it says who it is.
 *
 * `LOCAL` (v2), `UNKNOWN` (v1), and v2 `PROXY` with an UNSPEC or UNIX family carry no TCP
 * addresses: the result has `addresses: null` and the connection keeps its real peer.
 */
import { SocketAddress } from 'node:net';

export const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
export const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
/** The longest v1 line, CRLF included (the spec's own bound). */
export const V1_MAX_LENGTH = 107;
/** The most bytes accepted after v2's 16 fixed bytes: addresses (at most 216, UNIX) and TLVs. */
export const MAX_V2_PAYLOAD = 2048;
const V2_FIXED = 16;

export interface Endpoint {
  /** As `socket.remoteAddress` spells it: dotted IPv4, or compressed IPv6 (RFC 5952). */
  readonly address: string;
  readonly port: number;
  readonly family: 'IPv4' | 'IPv6';
}

export interface ProxiedAddresses {
  /** The client, as the sender of the header saw it. */
  readonly source: Endpoint;
  /** The address the client connected to. */
  readonly destination: Endpoint;
}

export type ParseResult =
  /** Every byte so far fits a header (or its start): read more. */
  | { readonly kind: 'incomplete' }
  /** The first bytes are neither `PROXY ` nor the v2 signature. */
  | { readonly kind: 'absent' }
  | { readonly kind: 'malformed'; readonly reason: string }
  /** A well-formed header of a version the filter does not allow. */
  | { readonly kind: 'disallowed'; readonly version: 1 | 2 }
  | {
      readonly kind: 'header';
      readonly version: 1 | 2;
      /** Bytes of `buf` the header takes; what follows belongs to the next stage. */
      readonly length: number;
      /** Null: LOCAL, UNKNOWN or a family without TCP addresses; keep the real peer. */
      readonly addresses: ProxiedAddresses | null;
    };

export interface AllowedVersions {
  readonly v1: boolean;
  readonly v2: boolean;
}

const INCOMPLETE: ParseResult = { kind: 'incomplete' };
const ABSENT: ParseResult = { kind: 'absent' };

/** Parses the header at the start of `buf`. Call again with more bytes after `incomplete`. */
export function parseProxyHeader(buf: Buffer, allow: AllowedVersions): ParseResult {
  if (buf.length === 0) return INCOMPLETE;
  if (buf[0] === V1_PREFIX[0]) {
    if (!startsWith(buf, V1_PREFIX)) return ABSENT;
    if (buf.length < V1_PREFIX.length) return INCOMPLETE;
    if (!allow.v1) return { kind: 'disallowed', version: 1 };
    return parseV1(buf);
  }
  if (buf[0] === V2_SIGNATURE[0]) {
    if (!startsWith(buf, V2_SIGNATURE)) return ABSENT;
    if (buf.length < V2_SIGNATURE.length) return INCOMPLETE;
    if (!allow.v2) return { kind: 'disallowed', version: 2 };
    return parseV2(buf);
  }
  return ABSENT;
}

/** `buf` and `prefix` agree on their common length. */
function startsWith(buf: Buffer, prefix: Buffer): boolean {
  const n = Math.min(buf.length, prefix.length);
  return buf.compare(prefix, 0, n, 0, n) === 0;
}

function malformed(reason: string): ParseResult {
  return { kind: 'malformed', reason };
}

function parseV1(buf: Buffer): ParseResult {
  const limit = Math.min(buf.length, V1_MAX_LENGTH);
  const lf = buf.indexOf(0x0a, V1_PREFIX.length);
  if (lf < 0 || lf >= limit) return buf.length >= V1_MAX_LENGTH ? malformed('no CRLF within 107 bytes') : INCOMPLETE;
  if (buf[lf - 1] !== 0x0d) return malformed('a bare LF ends the line');
  const length = lf + 1;
  const fields = buf.toString('latin1', V1_PREFIX.length, lf - 1).split(' ');
  if (fields[0] === 'UNKNOWN') return { kind: 'header', version: 1, length, addresses: null };
  if (fields.length !== 5) return malformed('expected TCP4|TCP6 src dst sport dport');
  const [proto, src, dst, sport, dport] = fields as [string, string, string, string, string];
  const family = proto === 'TCP4' ? 'IPv4' : proto === 'TCP6' ? 'IPv6' : null;
  if (family === null) return malformed('protocol must be TCP4, TCP6 or UNKNOWN');
  const source = textEndpoint(src, sport, family);
  const destination = textEndpoint(dst, dport, family);
  if (source === null || destination === null) return malformed('bad address or port');
  return { kind: 'header', version: 1, length, addresses: { source, destination } };
}

const PORT = /^(0|[1-9][0-9]{0,4})$/;
const ADDRESS_CHARS = /^[0-9A-Fa-f:.]+$/;

function textEndpoint(addr: string, port: string, family: 'IPv4' | 'IPv6'): Endpoint | null {
  if (!PORT.test(port)) return null;
  const p = Number(port);
  if (p > 65535) return null;
  // Only the characters of an IP literal: no zone ids (they name an interface of the sender,
  // not an address of the client), and no NUL, at which inet_pton would stop and accept the rest.
  if (!ADDRESS_CHARS.test(addr)) return null;
  const normal = normalizeAddress(addr, family);
  return normal === null ? null : { address: normal, port: p, family };
}

/** The address as Node spells a peer (inet_pton, then inet_ntop), or null if it is not one. */
function normalizeAddress(addr: string, family: 'IPv4' | 'IPv6'): string | null {
  try {
    return new SocketAddress({ address: addr, family: family === 'IPv4' ? 'ipv4' : 'ipv6' }).address;
  } catch {
    return null;
  }
}

function parseV2(buf: Buffer): ParseResult {
  if (buf.length < V2_FIXED) return INCOMPLETE;
  const verCmd = buf[12] as number;
  if (verCmd >> 4 !== 2) return malformed('version nibble is not 2');
  const command = verCmd & 0x0f;
  if (command > 1) return malformed('command is neither LOCAL nor PROXY');
  const famProto = buf[13] as number;
  const family = famProto >> 4;
  const transport = famProto & 0x0f;
  if (family > 3 || transport > 2) return malformed('unknown address family or transport');
  const payload = buf.readUInt16BE(14);
  if (payload > MAX_V2_PAYLOAD) return malformed('header longer than the bound');
  const length = V2_FIXED + payload;
  if (buf.length < length) return INCOMPLETE;
  const addrLen = family === 1 ? 12 : family === 2 ? 36 : family === 3 ? 216 : 0;
  // LOCAL: the sender's own connection (a health check); whatever follows is skipped unread.
  if (command === 0) return { kind: 'header', version: 2, length, addresses: null };
  if (payload < addrLen) return malformed('length shorter than the addresses');
  if (!tlvsFramed(buf, V2_FIXED + addrLen, length)) return malformed('a TLV runs past the header');
  if (family === 0 || family === 3) return { kind: 'header', version: 2, length, addresses: null };
  if (transport !== 1) return malformed('PROXY over a transport other than STREAM');
  const addresses = family === 1 ? inet4(buf, V2_FIXED) : inet6(buf, V2_FIXED);
  return { kind: 'header', version: 2, length, addresses };
}

function tlvsFramed(buf: Buffer, from: number, end: number): boolean {
  let p = from;
  while (p < end) {
    if (end - p < 3) return false;
    p += 3 + buf.readUInt16BE(p + 1);
  }
  return p === end;
}

function inet4(buf: Buffer, at: number): ProxiedAddresses {
  const ip = (o: number): string => `${buf[o]}.${buf[o + 1]}.${buf[o + 2]}.${buf[o + 3]}`;
  return {
    source: { address: ip(at), port: buf.readUInt16BE(at + 8), family: 'IPv4' },
    destination: { address: ip(at + 4), port: buf.readUInt16BE(at + 10), family: 'IPv4' },
  };
}

function inet6(buf: Buffer, at: number): ProxiedAddresses {
  const ip = (o: number): string => {
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(buf.readUInt16BE(o + i).toString(16));
    // Eight full groups always parse; normalizing gives the compressed form Node reports.
    return normalizeAddress(groups.join(':'), 'IPv6') as string;
  };
  return {
    source: { address: ip(at), port: buf.readUInt16BE(at + 32), family: 'IPv6' },
    destination: { address: ip(at + 16), port: buf.readUInt16BE(at + 34), family: 'IPv6' },
  };
}
