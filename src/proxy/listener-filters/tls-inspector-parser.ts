/**
 * The parts of a TLS ClientHello a listener needs to choose a filter chain: whether the
 * client speaks TLS at all, the SNI name, and the ALPN protocols it offers. Pure: bytes in,
 * a verdict out; never throws, whatever the bytes (every length is checked against what is
 * there before it is used). Nothing is decrypted or answered: the bytes stay for whoever
 * terminates or passes the TLS on.
 *
 * Wire format, as read here (RFC 8446 §5.1 and §4.1.2, RFC 6066 §3, RFC 7301 §3.1):
 *
 * - Records: type (1 byte; 22 = handshake), legacy version (2 bytes, the first one 3),
 *   length (16-bit big-endian, 1..16384), then that many bytes. The ClientHello is one
 *   handshake message that may be split over several handshake records; a record of another
 *   type, or an empty one, before it is complete makes the bytes "not a ClientHello".
 * - Handshake message: type (1 byte; 1 = client_hello), length (24-bit), body.
 * - ClientHello body: legacy_version (2), random (32), session id (1-byte length, at most 32),
 *   cipher suites (16-bit length, even, at least 2), compression methods (1-byte length, at
 *   least 1), then optionally extensions (16-bit length; each: type 16 bits, length 16 bits,
 *   data) which must fill the body exactly.
 * - server_name (type 0): 16-bit list length; entries of name type (1 byte; 0 = host_name)
 *   and a 16-bit length. The first host_name is the SNI name, lower-cased, trailing dot
 *   dropped; one that is empty, not printable ASCII or ends in an empty label makes the hello
 *   malformed.
 * - application_layer_protocol_negotiation (type 16): 16-bit list length; entries of a
 *   1-byte length (at least 1) and the name.
 *
 * The inspector reads at most `MAX_CLIENT_HELLO_BYTES` (record headers included, like
 * Envoy's default): a hello not complete by then is `too-large`.
 */

export const MAX_CLIENT_HELLO_BYTES = 16_384;
const RECORD_HEADER = 5;
const MAX_RECORD = 16_384;
const CONTENT_HANDSHAKE = 22;
const HANDSHAKE_CLIENT_HELLO = 1;
const EXT_SERVER_NAME = 0;
const EXT_ALPN = 16;

export type ClientHelloResult =
  /** Every byte so far fits a ClientHello (or its start): read more. */
  | { readonly kind: 'incomplete' }
  /** The first byte is not a handshake record: plaintext (or some other protocol). */
  | { readonly kind: 'not-tls' }
  /** It starts like TLS but breaks the framing above. */
  | { readonly kind: 'malformed' }
  /** No complete ClientHello within `MAX_CLIENT_HELLO_BYTES`. */
  | { readonly kind: 'too-large' }
  | {
      readonly kind: 'hello';
      /** Lower case, no trailing dot; null when the client sent none. */
      readonly serverName: string | null;
      /** In the client's order; empty when it offered none. */
      readonly alpn: readonly string[];
    };

const INCOMPLETE: ClientHelloResult = { kind: 'incomplete' };
const NOT_TLS: ClientHelloResult = { kind: 'not-tls' };
const MALFORMED: ClientHelloResult = { kind: 'malformed' };
const TOO_LARGE: ClientHelloResult = { kind: 'too-large' };

/** Parses the ClientHello at the start of `buf`. Call again with more bytes after `incomplete`. */
export function parseClientHello(input: Buffer): ClientHelloResult {
  // The inspector reads no more than the bound, so bytes past it must not decide anything: a
  // hello (or a broken record) ending there is too large even when it came in one read, else
  // the verdict would depend on how the bytes arrived (the tls-client-hello fuzz target found
  // hellos whose many small records' headers pushed them past the bound, read whole).
  const buf = input.length > MAX_CLIENT_HELLO_BYTES ? input.subarray(0, MAX_CLIENT_HELLO_BYTES) : input;
  if (buf.length === 0) return INCOMPLETE;
  if (buf[0] !== CONTENT_HANDSHAKE) return NOT_TLS;
  if (buf.length >= 2 && buf[1] !== 3) return NOT_TLS;
  const hello = handshakeMessage(buf);
  if (!Buffer.isBuffer(hello)) return hello === INCOMPLETE && buf.length >= MAX_CLIENT_HELLO_BYTES ? TOO_LARGE : hello;
  return parseBody(hello);
}

/**
 * The ClientHello's body, reassembled from the handshake records at the start of `buf`, or
 * the verdict when there is none (yet): incomplete, malformed or too large.
 */
function handshakeMessage(buf: Buffer): Buffer | ClientHelloResult {
  const fragments: Buffer[] = [];
  let have = 0;
  let need = -1; // the message's total length (header included), once its header is in
  let p = 0;
  while (need < 0 || have < need) {
    if (p + RECORD_HEADER > buf.length) return INCOMPLETE;
    if (buf[p] !== CONTENT_HANDSHAKE || buf[p + 1] !== 3) return MALFORMED;
    const len = buf.readUInt16BE(p + 3);
    if (len === 0 || len > MAX_RECORD) return MALFORMED;
    const end = p + RECORD_HEADER + len;
    const complete = end <= buf.length;
    fragments.push(buf.subarray(p + RECORD_HEADER, complete ? end : buf.length));
    if (need < 0) {
      // What is there already may show the message is not a ClientHello, or too long.
      const v = headerVerdict(fragments);
      if (typeof v !== 'number') {
        if (v !== INCOMPLETE || !complete) return v;
      } else need = v;
    }
    if (!complete) return INCOMPLETE;
    have += len;
    p = end;
  }
  // Bytes past the message in its last record would be the next handshake message: a client
  // sends nothing after its hello before the server answers.
  if (have !== need) return MALFORMED;
  const message = fragments.length === 1 ? (fragments[0] as Buffer) : Buffer.concat(fragments);
  return message.subarray(4, need);
}

/** The message's total length (header included) once its 4-byte header is in, or why not. */
function headerVerdict(fragments: readonly Buffer[]): number | ClientHelloResult {
  const head = fragments.length === 1 ? (fragments[0] as Buffer) : Buffer.concat(fragments);
  if (head.length >= 1 && head[0] !== HANDSHAKE_CLIENT_HELLO) return MALFORMED;
  if (head.length < 4) return INCOMPLETE;
  const total = 4 + head.readUIntBE(1, 3);
  // It cannot fit in the bytes the inspector reads (its record header takes 5 more).
  if (total + RECORD_HEADER > MAX_CLIENT_HELLO_BYTES) return TOO_LARGE;
  return total;
}

function parseBody(b: Buffer): ClientHelloResult {
  let p = 2 + 32; // legacy_version, random
  if (p + 1 > b.length) return MALFORMED;
  const sid = b[p] as number;
  if (sid > 32) return MALFORMED;
  p += 1 + sid;
  if (p + 2 > b.length) return MALFORMED;
  const suites = b.readUInt16BE(p);
  if (suites < 2 || suites % 2 !== 0) return MALFORMED;
  p += 2 + suites;
  if (p + 1 > b.length) return MALFORMED;
  const comp = b[p] as number;
  if (comp < 1) return MALFORMED;
  p += 1 + comp;
  if (p > b.length) return MALFORMED;
  if (p === b.length) return { kind: 'hello', serverName: null, alpn: [] };
  if (p + 2 > b.length) return MALFORMED;
  const extEnd = p + 2 + b.readUInt16BE(p);
  if (extEnd !== b.length) return MALFORMED;
  p += 2;
  let serverName: string | null = null;
  let alpn: readonly string[] = [];
  while (p < extEnd) {
    if (p + 4 > extEnd) return MALFORMED;
    const type = b.readUInt16BE(p);
    const end = p + 4 + b.readUInt16BE(p + 2);
    if (end > extEnd) return MALFORMED;
    if (type === EXT_SERVER_NAME) {
      const name = sniName(b, p + 4, end);
      if (name === null) return MALFORMED;
      serverName = name === '' ? null : name;
    } else if (type === EXT_ALPN) {
      const list = alpnList(b, p + 4, end);
      if (list === null) return MALFORMED;
      alpn = list;
    }
    p = end;
  }
  return { kind: 'hello', serverName, alpn };
}

/** The first host_name of a server_name extension in b[from, end); '' when there is none; null if malformed. */
function sniName(b: Buffer, from: number, end: number): string | null {
  if (from + 2 > end || from + 2 + b.readUInt16BE(from) !== end) return null;
  let p = from + 2;
  let found = '';
  while (p < end) {
    if (p + 3 > end) return null;
    const type = b[p] as number;
    const next = p + 3 + b.readUInt16BE(p + 1);
    if (next > end) return null;
    if (type === 0 && found === '') {
      if (next === p + 3) return null;
      for (let i = p + 3; i < next; i++) {
        const c = b[i] as number;
        if (c < 0x21 || c > 0x7e) return null;
      }
      found = b.toString('latin1', p + 3, next).toLowerCase();
      if (found.endsWith('.')) found = found.slice(0, -1);
      // Still a dot at the end ("a..", ".."): an empty label, no host name; reported as it stood it
      // broke "no trailing dot" (the tls-client-hello fuzz target found ".." reported as ".").
      if (found === '' || found.endsWith('.')) return null;
    }
    p = next;
  }
  return found;
}

/** The protocol names of an ALPN extension in b[from, end), or null if malformed. */
function alpnList(b: Buffer, from: number, end: number): string[] | null {
  if (from + 2 > end || from + 2 + b.readUInt16BE(from) !== end) return null;
  const out: string[] = [];
  let p = from + 2;
  while (p < end) {
    const len = b[p] as number;
    if (len === 0 || p + 1 + len > end) return null;
    out.push(b.toString('latin1', p + 1, p + 1 + len));
    p += 1 + len;
  }
  return out;
}
