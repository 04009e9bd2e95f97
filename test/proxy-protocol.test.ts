/**
 * The PROXY protocol header parser, against a corpus of v1 and v2 headers (good, truncated,
 * oversize, malformed), and the `listenerFilters` config keys.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig, type ConfigIssue } from '../src/config/index.js';
import { isProxyctlError, ExitCode } from '../src/errors.js';
import { parseProxyHeader, type ParseResult } from '../src/proxy/listener-filters/proxy-protocol-parser.js';
import { tlv, v2Header } from './fixtures/proxy-protocol-util.js';

const BOTH = { v1: true, v2: true };
const parse = (b: Buffer | string, allow = BOTH): ParseResult => parseProxyHeader(typeof b === 'string' ? Buffer.from(b, 'latin1') : b, allow);

function header(r: ParseResult): Extract<ParseResult, { kind: 'header' }> {
  assert.equal(r.kind, 'header', `expected a header, got ${JSON.stringify(r)}`);
  return r as Extract<ParseResult, { kind: 'header' }>;
}

test('v1 TCP4, TCP6 and UNKNOWN', () => {
  const line = 'PROXY TCP4 192.0.2.10 198.51.100.1 40000 443\r\n';
  const r4 = header(parse(`${line}GET / HTTP/1.1\r\n`));
  assert.equal(r4.version, 1);
  assert.equal(r4.length, line.length);
  assert.deepEqual(r4.addresses, { source: { address: '192.0.2.10', port: 40000, family: 'IPv4' }, destination: { address: '198.51.100.1', port: 443, family: 'IPv4' } });

  const r6 = header(parse('PROXY TCP6 2001:DB8:0:0:0:0:0:10 ::1 65535 0\r\n'));
  assert.equal(r6.addresses?.source.address, '2001:db8::10', 'IPv6 as Node spells a peer');
  assert.equal(r6.addresses?.source.port, 65535);
  assert.equal(r6.addresses?.destination.address, '::1');

  const ru = header(parse('PROXY UNKNOWN whatever follows\r\nrest'));
  assert.equal(ru.addresses, null);
  assert.equal(ru.length, 'PROXY UNKNOWN whatever follows\r\n'.length);
  assert.equal(header(parse('PROXY UNKNOWN\r\n')).addresses, null);
});

test('v1: partial lines wait, bad ones are malformed', () => {
  for (const partial of ['P', 'PROX', 'PROXY ', 'PROXY TCP4 192.0.2.10 198.51.100.1 40000 443', 'PROXY TCP4 192.0.2.10 198.51.100.1 40000 443\r']) {
    assert.equal(parse(partial).kind, 'incomplete', partial);
  }
  const bad = [
    'PROXY TCP4 192.0.2.10 198.51.100.1 40000 443\n', // bare LF
    'PROXY TCP4 192.0.2.10 198.51.100.1 40000\r\n', // a field missing
    'PROXY TCP4 192.0.2.10  198.51.100.1 40000 443\r\n', // two spaces
    'PROXY TCP4 ::1 ::1 40000 443\r\n', // family mismatch
    'PROXY TCP6 192.0.2.10 198.51.100.1 40000 443\r\n',
    'PROXY TCP4 192.0.2.300 198.51.100.1 40000 443\r\n',
    'PROXY TCP4 192.0.2.10 198.51.100.1 65536 443\r\n',
    'PROXY TCP4 192.0.2.10 198.51.100.1 0400 443\r\n', // leading zero
    'PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n', // zone id
    'PROXY UDP4 192.0.2.10 198.51.100.1 40000 443\r\n',
  ];
  for (const b of bad) assert.equal(parse(b).kind, 'malformed', JSON.stringify(b));
  // 107 bytes and still no CRLF: too long, even though more could follow.
  assert.equal(parse(`PROXY UNKNOWN ${'x'.repeat(93)}`).kind, 'malformed');
  assert.equal(parse(`PROXY UNKNOWN ${'x'.repeat(91)}\r\n`).kind, 'header', 'exactly 107 bytes is allowed');
  assert.equal(parse(`PROXY UNKNOWN ${'x'.repeat(92)}\r\n`).kind, 'malformed', '108 bytes is not');
});

test('v2 PROXY over IPv4 and IPv6, with TLVs skipped; LOCAL keeps the real peer', () => {
  const tlvs = Buffer.concat([tlv(0x01, 'h2'), tlv(0x04, Buffer.alloc(0)), tlv(0x30, 'ns')]);
  const h4 = v2Header({ src: '203.0.113.7', dst: '198.51.100.1', sport: 1234, dport: 80, tlvs });
  const r4 = header(parse(Buffer.concat([h4, Buffer.from('GET /')])));
  assert.equal(r4.version, 2);
  assert.equal(r4.length, h4.length);
  assert.deepEqual(r4.addresses, { source: { address: '203.0.113.7', port: 1234, family: 'IPv4' }, destination: { address: '198.51.100.1', port: 80, family: 'IPv4' } });

  const r6 = header(parse(v2Header({ src: '2001:db8::7', dst: '::ffff:c633:6401', sport: 5, dport: 6, tlvs: tlv(0xe0, 'x') })));
  assert.equal(r6.addresses?.source.address, '2001:db8::7');
  assert.equal(r6.addresses?.destination.address, '::ffff:198.51.100.1');
  assert.equal(r6.addresses?.source.family, 'IPv6');

  const local = v2Header({ command: 0 });
  const rl = header(parse(local));
  assert.equal(rl.addresses, null);
  assert.equal(rl.length, local.length);
});

test('v2: truncated waits; bad signature, version, command, oversize and bad TLVs are refused', () => {
  const h = v2Header({ tlvs: tlv(1, 'abc') });
  for (const n of [1, 5, 12, 15, 16, h.length - 1]) assert.equal(parse(h.subarray(0, n)).kind, 'incomplete', `first ${n} bytes`);
  const sig = Buffer.from(h);
  sig[7] = 0x50;
  assert.equal(parse(sig).kind, 'absent', 'a broken signature is not a header at all');
  assert.equal(parse(v2Header({ version: 1 })).kind, 'malformed');
  assert.equal(parse(v2Header({ command: 2 })).kind, 'malformed');
  assert.equal(parse(v2Header({ length: 5000 })).kind, 'malformed', 'length past the bound, refused before the bytes arrive');
  assert.equal(parse(v2Header({ length: 8 })).kind, 'malformed', 'shorter than the addresses');
  const runaway = tlv(1, 'abc');
  runaway.writeUInt16BE(10, 1);
  assert.equal(parse(v2Header({ tlvs: runaway })).kind, 'malformed', 'a TLV longer than the header');
  assert.equal(parse(v2Header({ tlvs: Buffer.from([1, 0]) })).kind, 'malformed', 'a cut TLV');
});

test('absent and disallowed versions', () => {
  assert.equal(parse('GET / HTTP/1.1\r\n').kind, 'absent');
  assert.equal(parse('PRI * HTTP/2.0').kind, 'absent');
  assert.equal(parse('\x16\x03\x01').kind, 'absent', 'a TLS ClientHello');
  assert.deepEqual(parse('PROXY TCP4', { v1: false, v2: true }), { kind: 'disallowed', version: 1 });
  assert.deepEqual(parse(v2Header(), { v1: true, v2: false }), { kind: 'disallowed', version: 2 });
});

const LISTENER = (filters: string): string => `listeners:
  - name: web
    address: 127.0.0.1:8080
    protocol: http
    listenerFilters: ${filters}
    routes:
      - match: { prefix: / }
        directResponse: { status: 204 }
`;

test('config: listenerFilters get their defaults; wrong values are named by place', () => {
  const { config } = parseConfig(LISTENER('[{ proxyProtocol: {} }, { proxyProtocol: { allowV1: false, required: false, timeout: 250ms } }]'), 'test.yaml', { cpus: 1 });
  assert.deepEqual(config.listeners[0]?.listenerFilters, [
    { proxyProtocol: { allowV1: true, allowV2: true, required: true, timeoutMs: 3000 } },
    { proxyProtocol: { allowV1: false, allowV2: true, required: false, timeoutMs: 250 } },
  ]);
  assert.equal(parseConfig(LISTENER('[]'), 'test.yaml', { cpus: 1 }).config.listeners[0]?.listenerFilters, undefined);

  assert.deepEqual(refused(LISTENER('[{ proxyProtocol: { allowV1: false, allowV2: false } }]')).map((i) => i.path), ['listeners[0].listenerFilters[0].proxyProtocol']);
  const issues = refused(LISTENER('[{ proxyProtocol: { timeout: 3, extra: 1 } }, { nope: {} }]'));
  assert.deepEqual(issues.map((i) => i.path).sort(), [
    'listeners[0].listenerFilters[0].proxyProtocol.extra',
    'listeners[0].listenerFilters[0].proxyProtocol.timeout',
    'listeners[0].listenerFilters[1]',
    'listeners[0].listenerFilters[1].nope',
  ]);
  for (const i of issues) assert.equal(i.line, 5);
});

function refused(text: string): ConfigIssue[] {
  try {
    parseConfig(text, 'test.yaml', { cpus: 1 });
  } catch (err: unknown) {
    assert.ok(isProxyctlError(err, 'PROXYCTL_ERR_CONFIG_INVALID'));
    assert.equal(err.exitCode, ExitCode.CONFIG);
    return err.details.errors as ConfigIssue[];
  }
  assert.fail('expected the config to be refused');
}
