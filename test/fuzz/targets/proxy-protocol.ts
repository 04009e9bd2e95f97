/**
 * The PROXY protocol parser (v1 text and v2 binary). Invariants:
 * - it never throws, and a header it accepts is within the spec's bounds;
 * - the verdict does not depend on how the bytes arrived: every prefix of the input is
 *   `incomplete` or the same verdict, and no prefix shorter than a header is accepted;
 * - a v1 header's addresses are IP literals as written (nothing after a NUL, no zone ids);
 * - the addresses re-encode (v1 and v2) to bytes that parse to the same addresses.
 */
import { isIP } from 'node:net';
import fc from 'fast-check';
import { MAX_V2_PAYLOAD, type ParseResult, parseProxyHeader, V1_MAX_LENGTH, V2_SIGNATURE } from '../../../src/proxy/listener-filters/proxy-protocol-parser.js';
import { type FuzzTarget, invariant } from '../target.js';
import { splitPoints } from '../splits.js';

const ALLOW_BOTH = { v1: true, v2: true };

const port = fc.integer({ min: 0, max: 65535 });
const v1Line = fc.oneof(
  fc.tuple(fc.ipV4(), fc.ipV4(), port, port).map(([s, d, sp, dp]) => `PROXY TCP4 ${s} ${d} ${sp} ${dp}\r\n`),
  fc.tuple(fc.ipV6(), fc.ipV6(), port, port).map(([s, d, sp, dp]) => `PROXY TCP6 ${s} ${d} ${sp} ${dp}\r\n`),
  fc.string({ maxLength: 100 }).map((rest) => `PROXY UNKNOWN${rest}\r\n`),
);
const tlv = fc.tuple(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 40 })).map(([type, v]) => {
  const b = Buffer.alloc(3 + v.length);
  b[0] = type;
  b.writeUInt16BE(v.length, 1);
  b.set(v, 3);
  return b;
});
const v2Header = fc
  .record({
    ver: fc.constantFrom(2, 2, 2, 1, 3),
    cmd: fc.constantFrom(0, 1, 1, 2),
    fam: fc.constantFrom(0, 1, 1, 2, 2, 3, 4),
    proto: fc.constantFrom(0, 1, 1, 2, 3),
    addr: fc.uint8Array({ minLength: 216, maxLength: 216 }),
    tlvs: fc.array(tlv, { maxLength: 4 }),
    lengthDelta: fc.constantFrom(0, 0, 0, -1, 1, -3),
  })
  .map((r) => {
    const addrLen = r.fam === 1 ? 12 : r.fam === 2 ? 36 : r.fam === 3 ? 216 : 0;
    const body = Buffer.concat([Buffer.from(r.addr).subarray(0, addrLen), ...r.tlvs]);
    const fixed = Buffer.from([(r.ver << 4) | r.cmd, (r.fam << 4) | r.proto, 0, 0]);
    fixed.writeUInt16BE(Math.max(0, Math.min(0xffff, body.length + r.lengthDelta)), 2);
    return Buffer.concat([V2_SIGNATURE, fixed, body]);
  });
const trailing = fc.uint8Array({ maxLength: 32 }).map((a) => Buffer.from(a));

function v1Encode(r: ParseResult & { kind: 'header' }): Buffer {
  const a = r.addresses!;
  return Buffer.from(`PROXY ${a.source.family === 'IPv4' ? 'TCP4' : 'TCP6'} ${a.source.address} ${a.destination.address} ${a.source.port} ${a.destination.port}\r\n`, 'latin1');
}

function v2Encode(r: ParseResult & { kind: 'header' }): Buffer {
  const a = r.addresses!;
  const v4 = a.source.family === 'IPv4';
  const ip = (address: string): Buffer => {
    let s = address;
    if (v4) return Buffer.from(s.split('.').map(Number));
    // inet_ntop writes some addresses with an IPv4 tail (::0.1.0.0); make it two groups, then expand '::'.
    const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
    if (dotted !== null) {
      const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
      s = `${s.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
    }
    const [head = '', tail = ''] = s.includes('::') ? s.split('::') : [s, ''];
    const hs = head === '' ? [] : head.split(':');
    const ts = tail === '' ? [] : tail.split(':');
    const groups = [...hs, ...Array(8 - hs.length - ts.length).fill('0'), ...ts];
    const b = Buffer.alloc(16);
    for (const [i, g] of groups.entries()) b.writeUInt16BE(Number.parseInt(g, 16), i * 2);
    return b;
  };
  const ports = Buffer.alloc(4);
  ports.writeUInt16BE(a.source.port, 0);
  ports.writeUInt16BE(a.destination.port, 2);
  const body = Buffer.concat([ip(a.source.address), ip(a.destination.address), ports]);
  return Buffer.concat([V2_SIGNATURE, Buffer.from([0x21, v4 ? 0x11 : 0x21, 0, body.length]), body]);
}

function sameVerdict(a: ParseResult, b: ParseResult): boolean {
  return JSON.stringify(a) === JSON.stringify(b) || (a.kind === 'malformed' && b.kind === 'malformed');
}

const target: FuzzTarget = {
  name: 'proxy-protocol',
  generate: fc.oneof(
    fc.tuple(v1Line, trailing).map(([l, t]) => Buffer.concat([Buffer.from(l, 'latin1'), t])),
    fc.tuple(v2Header, trailing).map(([h, t]) => Buffer.concat([h, t])),
  ),
  dictionary: ['PROXY ', 'TCP4 ', 'TCP6 ', 'UNKNOWN', '::', '::ffff:', '%eth0', '65535', '65536', '00', V2_SIGNATURE, '\x21\x11\x00\x0c', '\x21\x21\x00\x24', '\x20\x00\x00\x00'],
  check(input) {
    const full = parseProxyHeader(input, ALLOW_BOTH);
    if (full.kind === 'header') {
      invariant(full.length <= input.length, 'a header longer than the input');
      invariant(full.version === 1 ? full.length <= V1_MAX_LENGTH : full.length <= 16 + MAX_V2_PAYLOAD, 'a header past the bound');
      const one = parseProxyHeader(input, { v1: full.version === 1, v2: full.version === 2 });
      invariant(sameVerdict(one, full), 'the verdict changed with the other version disallowed');
    }
    for (const p of splitPoints(input.length)) {
      const part = parseProxyHeader(input.subarray(0, p), ALLOW_BOTH);
      if (part.kind === 'incomplete') continue;
      if (full.kind === 'header' && p < full.length) invariant(false, `a ${p}-byte prefix of a ${full.length}-byte header got '${part.kind}'`);
      invariant(full.kind !== 'incomplete', `a ${p}-byte prefix got '${part.kind}' where the whole input is incomplete`);
      invariant(full.kind !== 'header' || sameVerdict(part, full), `a ${p}-byte prefix got another verdict than the whole`);
      invariant(full.kind === 'header' || part.kind === full.kind || part.kind === 'malformed', `a ${p}-byte prefix got '${part.kind}', the whole '${full.kind}'`);
    }
    if (full.kind !== 'header' || full.addresses === null) return;
    const { source, destination } = full.addresses;
    for (const e of [source, destination]) invariant(isIP(e.address) === (e.family === 'IPv4' ? 4 : 6) && e.port >= 0 && e.port <= 65535, 'an endpoint that is not an address and port');
    if (full.version === 1) {
      const fields = input.toString('latin1', 6, full.length - 2).split(' ');
      invariant(isIP(fields[1] ?? '') !== 0 && isIP(fields[2] ?? '') !== 0, 'a v1 address field that is not an IP literal as written');
    }
    for (const again of [v1Encode(full), v2Encode(full)]) {
      const r = parseProxyHeader(again, ALLOW_BOTH);
      invariant(r.kind === 'header' && JSON.stringify(r.addresses) === JSON.stringify(full.addresses), 'the addresses did not survive re-encoding');
    }
  },
};
export default target;
