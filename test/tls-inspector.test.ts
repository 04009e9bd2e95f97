/**
 * The TLS inspector's ClientHello parser, against real node:tls hellos and hellos built byte
 * by byte: what it finds, that a prefix of a hello is always "incomplete" (a hello split over
 * reads), that fragments over several records are put together, that the read bound holds,
 * and that no mutation of the bytes makes it throw.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_CLIENT_HELLO_BYTES, parseClientHello, type ClientHelloResult } from '../src/proxy/listener-filters/tls-inspector-parser.js';
import { alpnExtension, capturedHello, extension, helloMessage, records, sniExtension } from './fixtures/client-hello-util.js';

function hello(r: ClientHelloResult): Extract<ClientHelloResult, { kind: 'hello' }> {
  assert.equal(r.kind, 'hello', `expected a hello, got ${JSON.stringify(r)}`);
  return r as Extract<ClientHelloResult, { kind: 'hello' }>;
}

test('a real node:tls ClientHello: SNI (lower-cased) and ALPN in the client order; none sent, none found', async () => {
  const r = hello(parseClientHello(await capturedHello('API.Example.test', ['h2', 'http/1.1'])));
  assert.equal(r.serverName, 'api.example.test');
  assert.deepEqual(r.alpn, ['h2', 'http/1.1']);
  const bare = hello(parseClientHello(await capturedHello(undefined, undefined)));
  assert.equal(bare.serverName, null);
  assert.deepEqual(bare.alpn, []);
});

test('every proper prefix of a hello is incomplete; the bytes after it do not matter', async () => {
  const bytes = await capturedHello('split.test', ['h2']);
  for (let n = 0; n < bytes.length; n++) assert.equal(parseClientHello(bytes.subarray(0, n)).kind, 'incomplete', `prefix of ${n} bytes`);
  assert.equal(hello(parseClientHello(Buffer.concat([bytes, Buffer.from('\x17\x03\x03\x00\x05early')]))).serverName, 'split.test');
});

test('a hello fragmented over several handshake records is put together', () => {
  const msg = helloMessage({ sni: 'frag.test', alpn: ['x'] });
  for (const size of [1, 3, 4, 5, 17, 64]) {
    const r = hello(parseClientHello(records(msg, size)));
    assert.equal(r.serverName, 'frag.test', `fragments of ${size}`);
    assert.deepEqual(r.alpn, ['x']);
  }
  const two = records(msg, 30);
  for (let n = 0; n < two.length; n++) assert.equal(parseClientHello(two.subarray(0, n)).kind, 'incomplete');
});

test('not TLS: plaintext, a PROXY header, another record type or version', () => {
  for (const first of ['GET / HTTP/1.1\r\n', 'PROXY TCP4 ', 'PRI * HTTP/2.0', '\x15\x03\x03\x00\x02\x02\x28', '\x16\x02\x00']) {
    assert.equal(parseClientHello(Buffer.from(first, 'latin1')).kind, 'not-tls', JSON.stringify(first));
  }
  assert.equal(parseClientHello(Buffer.from([0x16])).kind, 'incomplete', 'one byte that could start a hello');
});

test('lying lengths and broken framing are malformed, never thrown', () => {
  const ok = helloMessage({ sni: 'a.test', alpn: ['h2'] });
  const withBody = (body: Buffer): Buffer => {
    const head = Buffer.from([1, 0, 0, 0]);
    head.writeUIntBE(body.length, 1, 3);
    return records(Buffer.concat([head, body]));
  };
  const body = ok.subarray(4);
  const cases: Record<string, Buffer> = {
    'zero-length record': Buffer.from([22, 3, 1, 0, 0]),
    'record over 16 KiB': Buffer.from([22, 3, 1, 0x40, 0x01]),
    'server hello, not client hello': records(Buffer.concat([Buffer.from([2]), ok.subarray(1)])),
    'message shorter than its record': records(Buffer.concat([ok, Buffer.from([1, 0, 0, 0])])),
    'session id over 32': withBody(Buffer.concat([body.subarray(0, 34), Buffer.from([33]), body.subarray(35)])),
    'odd cipher suite length': withBody(Buffer.concat([body.subarray(0, 35), Buffer.from([0, 3]), body.subarray(37)])),
    'extensions longer than the body': withBody(Buffer.concat([body.subarray(0, 41), Buffer.from([0xff, 0xff]), body.subarray(43)])),
    'extensions shorter than the body': withBody(Buffer.concat([body, Buffer.from([0])])),
    'an extension past the block': withBody(Buffer.concat([body.subarray(0, 41), Buffer.from([0, 4]), Buffer.from([0, 0, 0, 9])])),
    'empty SNI name': withBody(Buffer.concat([body.subarray(0, 41), ...frame([extension(0, Buffer.from([0, 3, 0, 0, 0]))])])),
    'SNI list length lies': withBody(Buffer.concat([body.subarray(0, 41), ...frame([extension(0, Buffer.from([0, 9, 0, 0, 1, 0x61]))])])),
    'SNI name with a space': withBody(Buffer.concat([body.subarray(0, 41), ...frame([sniExtension('a b')])])),
    'SNI name ending in an empty label': withBody(Buffer.concat([body.subarray(0, 41), ...frame([sniExtension('a..')])])),
    'SNI name of two dots': withBody(Buffer.concat([body.subarray(0, 41), ...frame([sniExtension('..')])])),
    'empty ALPN name': withBody(Buffer.concat([body.subarray(0, 41), ...frame([extension(16, Buffer.from([0, 1, 0]))])])),
    'ALPN entry past its list': withBody(Buffer.concat([body.subarray(0, 41), ...frame([extension(16, Buffer.from([0, 2, 5, 0x61]))])])),
    'a non-handshake record inside the hello': Buffer.concat([records(ok, 20).subarray(0, 25), Buffer.from([23, 3, 3, 0, 1, 0])]),
  };
  for (const [name, bytes] of Object.entries(cases)) assert.equal(parseClientHello(bytes).kind, 'malformed', name);
  // The fixture's own hello, for contrast, and one with no extensions at all.
  assert.equal(hello(parseClientHello(records(ok))).serverName, 'a.test');
  assert.deepEqual(hello(parseClientHello(records(helloMessage({ noExtensions: true })))), { kind: 'hello', serverName: null, alpn: [] });
  assert.equal(hello(parseClientHello(records(helloMessage({ sni: 'dot.test.' })))).serverName, 'dot.test', 'a trailing dot dropped');
});

/** An extensions block: 16-bit length and the extensions. */
function frame(exts: Buffer[]): Buffer[] {
  const all = Buffer.concat(exts);
  const len = Buffer.alloc(2);
  len.writeUInt16BE(all.length);
  return [len, all];
}

test(`the read bound: a hello that cannot fit in ${MAX_CLIENT_HELLO_BYTES} bytes is too large, a big one that fits is read`, () => {
  const padding = (n: number): Buffer => extension(21, Buffer.alloc(n));
  const big = helloMessage({ sni: 'big.test', extensions: [padding(15_000)] });
  assert.equal(hello(parseClientHello(records(big))).serverName, 'big.test');
  const huge = records(helloMessage({ sni: 'huge.test', extensions: [padding(16_400)] }));
  // Too large as soon as the message header is in: no need to buffer it.
  assert.equal(parseClientHello(huge.subarray(0, 9)).kind, 'too-large');
  // Many small records whose headers push a hello that would fit past the bound.
  const fragmented = records(helloMessage({ sni: 'f.test', extensions: [padding(12_000)] }), 8);
  assert.ok(fragmented.length > MAX_CLIENT_HELLO_BYTES);
  assert.equal(parseClientHello(fragmented.subarray(0, MAX_CLIENT_HELLO_BYTES - 1)).kind, 'incomplete');
  assert.equal(parseClientHello(fragmented.subarray(0, MAX_CLIENT_HELLO_BYTES)).kind, 'too-large');
  // The same verdict when all of it arrives in one read: bytes past the bound decide nothing.
  assert.equal(parseClientHello(fragmented).kind, 'too-large');
});

test('fuzz: truncated, bit-flipped, length-scrambled and random inputs never throw', async () => {
  const seeds = [await capturedHello('fuzz.test', ['h2', 'http/1.1']), records(helloMessage({ sni: 'b.test', alpn: ['a', 'bb'], extensions: [alpnExtension(['x'])] }), 40)];
  let state = 0x2545f491;
  const rand = (n: number): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % n;
  };
  const kinds = new Set(['incomplete', 'not-tls', 'malformed', 'too-large', 'hello']);
  for (let i = 0; i < 20_000; i++) {
    const seed = seeds[i % seeds.length] as Buffer;
    const b = Buffer.from(seed.subarray(0, rand(4) === 0 ? rand(seed.length + 1) : seed.length));
    const flips = 1 + rand(4);
    for (let f = 0; f < flips && b.length > 0; f++) {
      const at = rand(b.length);
      b[at] = rand(3) === 0 ? 0xff : rand(3) === 0 ? 0 : rand(256);
    }
    const r = parseClientHello(i % 97 === 0 ? Buffer.from(Array.from({ length: rand(600) }, () => rand(256))) : b);
    assert.ok(kinds.has(r.kind), r.kind);
    if (r.kind === 'hello' && r.serverName !== null) assert.match(r.serverName, /^[\x21-\x7e]+$/);
  }
});
