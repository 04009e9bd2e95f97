/**
 * The TLS inspector's ClientHello parser. Invariants:
 * - it never throws, and what it reports is well formed (SNI lower-case printable ASCII with
 *   no trailing dot, ALPN names of 1..255 bytes);
 * - the verdict does not depend on how the bytes arrived: every prefix is `incomplete` or
 *   the same verdict, and bytes after a verdict do not change it;
 * - it is bounded: no input of MAX_CLIENT_HELLO_BYTES or more is `incomplete` (the inspector
 *   reads no more, so the shortest prefix with a verdict is within the bound);
 * - the SNI and ALPN it reports, re-encoded into a fresh hello, parse to the same values.
 */
import fc from 'fast-check';
import { type ClientHelloResult, MAX_CLIENT_HELLO_BYTES, parseClientHello } from '../../../src/proxy/listener-filters/tls-inspector-parser.js';
import { alpnExtension, extension, helloMessage, records, sniExtension } from '../../fixtures/client-hello-util.js';
import { splitPoints } from '../splits.js';
import { type FuzzTarget, invariant } from '../target.js';

/**
 * Where to cut: splits.ts's points for a short input; for one near the bound (a parse of it
 * copies every record), fewer, with the bound's edges, so a run of 400 stays under a second.
 */
function cuts(length: number): number[] {
  if (length <= 2048) return splitPoints(length);
  const points = new Set<number>();
  for (let i = 0; i < 8; i++) {
    points.add(i);
    points.add(length - 1 - i);
    points.add(Math.floor(((i + 1) * length) / 10));
  }
  for (const p of [MAX_CLIENT_HELLO_BYTES - 1, MAX_CLIENT_HELLO_BYTES, MAX_CLIENT_HELLO_BYTES + 1]) if (p < length) points.add(p);
  return [...points];
}

const same = (a: ClientHelloResult, b: ClientHelloResult): boolean => JSON.stringify(a) === JSON.stringify(b);

const hostName = fc.oneof(fc.domain(), fc.constantFrom('A.Example.', 'x.', '.', 'a..b', 'caf\xe9.test', 'sp ace', ''), fc.stringMatching(/^[!-~]{1,40}$/));
const protocol = fc.oneof(fc.constantFrom('h2', 'http/1.1', 'acme-tls/1', ''), fc.uint8Array({ minLength: 1, maxLength: 12 }).map((a) => Buffer.from(a).toString('latin1')));
const otherExtension = fc.oneof(
  { weight: 5, arbitrary: fc.tuple(fc.constantFrom(0x0a0a, 43, 51, 13, 10, 21), fc.uint8Array({ maxLength: 24 })).map(([t, d]) => extension(t, Buffer.from(d))) },
  // padding (RFC 7685) sized so that the hello ends near the read bound
  { weight: 1, arbitrary: fc.integer({ min: 15_000, max: 16_400 }).map((n) => extension(21, Buffer.alloc(n))) },
);
const hello = fc
  .record({
    sni: fc.option(hostName, { nil: undefined }),
    alpn: fc.option(fc.array(protocol, { maxLength: 4 }), { nil: undefined }),
    extensions: fc.array(fc.oneof(otherExtension, hostName.map(sniExtension), fc.array(protocol, { maxLength: 2 }).map(alpnExtension)), { maxLength: 3 }),
    noExtensions: fc.boolean(),
    fragment: fc.oneof(fc.constant(16_384), fc.integer({ min: 1, max: 600 }), fc.integer({ min: 1, max: 16_384 })),
    trailing: fc.uint8Array({ maxLength: 8 }),
  })
  .map((o) => {
    const m = helloMessage({ ...(o.sni === undefined ? {} : { sni: o.sni }), ...(o.alpn === undefined ? {} : { alpn: o.alpn }), extensions: o.extensions, noExtensions: o.noExtensions && o.extensions.length === 0 });
    // Small records for a big hello take it past the bound all the same; fewer keep inputs short.
    const fragment = m.length > 4096 ? Math.max(o.fragment, 200) : o.fragment;
    return Buffer.concat([records(m, fragment), Buffer.from(o.trailing)]);
  });

const target: FuzzTarget = {
  name: 'tls-client-hello',
  generate: hello,
  dictionary: [Buffer.from([22, 3, 1]), Buffer.from([22, 3, 3, 0x40, 0x00]), Buffer.from([1, 0, 0]), Buffer.from([0, 0]), Buffer.from([0, 16]), Buffer.from([0xff, 0xff]), Buffer.from([0x40, 0x01]), Buffer.from([0, 0x21])],
  check(input) {
    const full = parseClientHello(input);
    for (const p of cuts(input.length)) {
      const part = parseClientHello(input.subarray(0, p));
      invariant(part.kind === 'incomplete' || same(part, full), `a ${p}-byte prefix got '${part.kind}', the whole '${full.kind}'`);
      // With the verdicts of prefixes monotone, this says the shortest prefix with one is within the bound.
      invariant(p < MAX_CLIENT_HELLO_BYTES || part.kind !== 'incomplete', `incomplete after ${p} bytes`);
    }
    if (full.kind === 'incomplete') {
      invariant(input.length < MAX_CLIENT_HELLO_BYTES, `incomplete after ${input.length} bytes`);
      return;
    }
    const head = input.subarray(0, MAX_CLIENT_HELLO_BYTES + 1);
    for (const more of [Buffer.from([22]), Buffer.from([22, 3, 1, 0, 1, 1])]) invariant(same(parseClientHello(Buffer.concat([head, more])), full), 'bytes after the verdict changed it');
    if (full.kind !== 'hello') return;
    const { serverName, alpn } = full;
    if (serverName !== null) invariant(/^[\x21-\x7e]+$/.test(serverName) && serverName === serverName.toLowerCase() && !serverName.endsWith('.'), `an SNI name as sent: ${JSON.stringify(serverName)}`);
    for (const a of alpn) invariant(a.length >= 1 && a.length <= 255, 'an ALPN name out of bounds');
    const again = parseClientHello(records(helloMessage({ ...(serverName === null ? {} : { sni: serverName }), ...(alpn.length === 0 ? {} : { alpn: [...alpn] }) })));
    invariant(again.kind === 'hello' && again.serverName === serverName && JSON.stringify(again.alpn) === JSON.stringify(alpn), 'SNI or ALPN did not survive re-encoding');
  },
};
export default target;
