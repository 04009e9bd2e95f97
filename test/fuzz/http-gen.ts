/**
 * Generators for the HTTP/1 targets: request and response heads built from RFC 9112's shape
 * (start line, field lines, blank line) with the fields the codec acts on, values that carry
 * the bytes a parser gets wrong (obs-text such as 0xA0, OWS on both sides), and near misses
 * (bare LF, other versions, duplicated framing fields); chunked bodies with extensions and
 * trailers. The mutator (mutate.ts) breaks them further at the byte level.
 */
import fc from 'fast-check';

const TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const token = fc.string({ unit: fc.constantFrom(...TCHARS), minLength: 1, maxLength: 12 });

/** Field names the codec has rules for, in random letter case. */
const KNOWN_NAMES = ['host', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'proxy-connection', 'te', 'upgrade', 'x-forwarded-for', 'x-forwarded-proto', 'x-request-id'];
const randomCase = (s: string): fc.Arbitrary<string> =>
  fc.array(fc.boolean(), { minLength: s.length, maxLength: s.length }).map((up) => [...s].map((c, i) => (up[i] ? c.toUpperCase() : c)).join(''));
const fieldName = fc.oneof({ arbitrary: fc.constantFrom(...KNOWN_NAMES).chain(randomCase), weight: 3 }, { arbitrary: token, weight: 2 });

/** One byte of a field value: VCHAR or obs-text, SP/HTAB inside; a CTL now and then (a near miss). */
const valueByte = fc.oneof(
  { arbitrary: fc.integer({ min: 0x21, max: 0x7e }), weight: 8 },
  { arbitrary: fc.constantFrom(0x20, 0x09, 0xa0, 0x85, 0xff, 0x80), weight: 3 },
  { arbitrary: fc.constantFrom(0x00, 0x7f, 0x0b, 0x0c, 0x0d), weight: 1 },
);
const rawValue = fc.array(valueByte, { maxLength: 24 }).map((a) => Buffer.from(a).toString('latin1'));
const KNOWN_VALUES = ['chunked', 'Chunked', 'gzip, chunked', 'chunked, chunked', 'close', 'keep-alive', 'Upgrade', 'close, x-a', 'x-a, te, host', '0', '5', '12', '007', '1, 1', '-1', '999999999999999', '1000000000000000', 'websocket', 'x', '\xa0x\xa0', 'x\xa0', '\xa0'];
const fieldValue = fc.oneof({ arbitrary: fc.constantFrom(...KNOWN_VALUES), weight: 3 }, { arbitrary: rawValue, weight: 2 });
const ows = fc.constantFrom('', '', ' ', '\t', '  ', ' \t');

/** A field line without its CRLF. */
export const fieldLine = fc.tuple(fieldName, ows, fieldValue, ows).map(([n, a, v, b]) => `${n}:${a}${v}${b}`);

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'CONNECT', 'PATCH', 'TRACE'];
const method = fc.oneof({ arbitrary: fc.constantFrom(...METHODS), weight: 4 }, { arbitrary: token, weight: 1 });
const requestTarget = fc.oneof(
  fc.constantFrom('/', '*', '/a?b=c', 'http://example.com/x', 'example.com:443', '/%20/\xa0', '/a#f'),
  fc.string({ unit: fc.integer({ min: 0x21, max: 0xff }).filter((c) => c !== 0x7f).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 30 }),
);
const version = fc.constantFrom('HTTP/1.1', 'HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/1.2', 'HTTP/2.0', 'http/1.1');
/** Line ends: nearly always CRLF, a bare LF or lone CR as the near miss. */
const eol = fc.constantFrom('\r\n', '\r\n', '\r\n', '\r\n', '\r\n', '\r\n', '\r\n', '\r\n', '\n', '\r');

const fieldLines = fc.array(fc.tuple(fieldLine, eol), { maxLength: 12 }).map((ls) => ls.map(([l, e]) => l + e).join(''));
/** What follows a head on the wire: nothing, a body, the next pipelined message. */
const after = fc.oneof(fc.constant(''), fc.constant('GET / HTTP/1.1\r\nhost: y\r\n\r\n'), fc.string({ maxLength: 20 }));

/** Request heads: method SP target SP version CRLF, a Host line mostly, field lines, CRLF. */
export const requestHead: fc.Arbitrary<Buffer> = fc
  .tuple(method, requestTarget, version, eol, fc.constantFrom('host: example.com\r\n', 'Host: a\r\n', ''), fieldLines, eol, after)
  .map(([m, t, v, e1, host, fields, e2, rest]) => Buffer.from(`${m} ${t} ${v}${e1}${host}${fields}${e2}${rest}`, 'latin1'));

/** Response heads: version SP 3DIGIT SP reason CRLF, field lines, CRLF; 1xx heads before some. */
const status = fc.oneof(fc.constantFrom(100, 101, 103, 200, 204, 206, 304, 404, 500, 599), fc.integer({ min: 0, max: 999 }));
const reason = fc.oneof(fc.constantFrom(' OK', ' Not Found', '', ' ', ' \xa0é'), rawValue.map((r) => ` ${r}`));
const statusHead = fc
  .tuple(version, status, reason, eol, fieldLines, eol)
  .map(([v, s, r, e1, fields, e2]) => `${v} ${String(s).padStart(3, '0')}${r}${e1}${fields}${e2}`);

/** One chunk: hex size (random case, leading zeros sometimes), an extension now and then, data. */
const chunk = fc
  .tuple(fc.uint8Array({ maxLength: 40 }), fc.constantFrom('', '', '', ';a=b', ';x', ' ;q="v"', '\t;n', ' 1', ';\x7f'), fc.constantFrom('', '', '0', '00'), fc.boolean())
  .map(([data, ext, zeros, upper]) => {
    const size = data.length.toString(16);
    return Buffer.concat([Buffer.from(`${zeros}${upper ? size.toUpperCase() : size}${ext}\r\n`, 'latin1'), data, Buffer.from('\r\n')]);
  })
  .filter((c) => c[0] !== 0x30 || c.length > 5); // a zero-size chunk ends the body: the last-chunk does that
const trailerLine = fc.oneof(fieldLine, fc.constantFrom('x-t:\x7f', '\x7fx: 1', 'no-colon', ' x: folded', 'x-t: a\x01b'));
/** A whole chunked body: chunks, last-chunk, trailer lines, the blank line, then whatever follows. */
export const chunkedBody: fc.Arbitrary<Buffer> = fc
  .tuple(fc.array(chunk, { maxLength: 6 }), fc.constantFrom('0', '000', '0;end'), fc.array(trailerLine, { maxLength: 3 }), after)
  .map(([chunks, last, trailers, rest]) =>
    Buffer.concat([...chunks, Buffer.from(`${last}\r\n${trailers.map((t) => `${t}\r\n`).join('')}\r\n${rest}`, 'latin1')]),
  );

/** Response messages: interim heads, a final head, then a body (chunked, sized, or raw bytes). */
export const responseMessage: fc.Arbitrary<Buffer> = fc
  .tuple(fc.array(statusHead.map((h) => h.replace(/^(\S+) \d{3}/, '$1 100')), { maxLength: 2 }), statusHead, fc.oneof(chunkedBody, fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a))))
  .map(([interim, head, body]) => Buffer.concat([Buffer.from(interim.join('') + head, 'latin1'), body]));

/** Tokens for the mutator: the delimiters and the values framing turns on. */
export const HTTP_DICTIONARY: readonly string[] = ['\r\n', '\r\n\r\n', ': ', 'HTTP/1.1', 'HTTP/1.0', 'Host: x\r\n', 'Content-Length: ', 'Transfer-Encoding: chunked\r\n', 'Connection: close\r\n', '\xa0', '\x7f', '0\r\n\r\n', ';ext=1', 'ffffffffff', '10000000001', '\t', ' '];
