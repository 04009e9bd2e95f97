/**
 * The HTTP/2 glue (src/proxy/http2/headers.ts), both directions. The first byte picks one:
 * - even: the rest is what an HTTP/1 upstream sent. It is read as the response reader does
 *   (interim 1xx heads, then the final head; a 101 ends it), and each head's HTTP/2 headers must
 *   be ones node:http2 sends without throwing (the rules of Node 20's mapToHeaders and of
 *   respond/additionalHeaders, restated below) and must carry the parsed fields unchanged.
 * - odd: the rest is a stream's header list, `name\0value` lines split by `\n` (bit 1 of the
 *   first byte: END_STREAM). A list nghttp2 would refuse is not checked further; for one it
 *   passes, the HTTP/1.1 head built from it must parse (parseRequestHead) to the same method,
 *   target, authority and fields, with framing that says what `chunked` says.
 */
import fc from 'fast-check';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http2';
import { forwardedLines } from '../../../src/proxy/http/forwarded.js';
import { headerFields, INCOMPLETE, MALFORMED, MessageHead, parseRequestHead, parseResponseHead } from '../../../src/proxy/http/head.js';
import { downstreamResponseHeaders, interimResponseHeaders, upstreamRequestHead } from '../../../src/proxy/http2/headers.js';
import { PATH_ESCAPED_SLASH, PATH_INVALID, PATH_UNCHANGED, normalizeTargetString } from '../../../src/proxy/router/index.js';
import { type FuzzTarget, invariant } from '../target.js';

const OWS_EDGES = /^[ \t]+|[ \t]+$/g;

// ---- what node:http2 refuses to send (lib/internal/http2/util.js, core.js in Node 20) --------

/** Fields Node throws ERR_HTTP2_INVALID_CONNECTION_HEADERS for (`te` unless exactly "trailers"). */
const CONNECTION_SPECIFIC = new Set(['connection', 'upgrade', 'http2-settings', 'keep-alive', 'proxy-connection', 'transfer-encoding']);
/** Fields Node throws ERR_HTTP2_HEADER_SINGLE_VALUE for when given more than one value. */
const SINGLE_VALUE = new Set(['access-control-allow-credentials', 'access-control-max-age', 'access-control-request-method', 'age', 'authorization', 'content-encoding', 'content-language', 'content-length', 'content-location', 'content-md5', 'content-range', 'content-type', 'date', 'dnt', 'etag', 'expires', 'from', 'host', 'if-match', 'if-modified-since', 'if-none-match', 'if-range', 'if-unmodified-since', 'last-modified', 'location', 'max-forwards', 'proxy-authorization', 'range', 'referer', 'retry-after', 'tk', 'upgrade-insecure-requests', 'user-agent', 'x-content-type-options']);
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;
const BAD_VALUE = /[\0\r\n]/;

/** Throws unless `out` is a header object node:http2 sends as a final (or an informational) response. */
function checkSendable(out: OutgoingHttpHeaders, interim: boolean): void {
  const status = out[':status'];
  invariant(typeof status === 'number', ':status is not a number');
  if (interim) invariant(status >= 100 && status < 200 && status !== 101, `interim :status ${status}`);
  else invariant(status >= 200 && status <= 599, `final :status ${status}`);
  for (const name of Object.keys(out)) {
    if (name === ':status') continue;
    invariant(TOKEN.test(name), `field name ${JSON.stringify(name)} is not a lowercase token`);
    const v = out[name];
    const values = Array.isArray(v) ? v : [v];
    invariant(!(SINGLE_VALUE.has(name) && values.length > 1), `${name} given ${values.length} values`);
    for (const one of values) invariant(typeof one === 'string' && !BAD_VALUE.test(one), `${name} has a value with CR, LF or NUL`);
    invariant(!CONNECTION_SPECIFIC.has(name) && !(name === 'te' && v !== 'trailers'), `connection-specific field ${name} reaches node:http2`);
  }
}

/** The fields `out` should hold: `fields` (flat name, value) grouped as node:http2 wants them. */
function expectedGroups(fields: readonly string[]): Map<string, string | string[]> {
  const m = new Map<string, string | string[]>();
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i] as string;
    const value = fields[i + 1] as string;
    if (CONNECTION_SPECIFIC.has(name) || name === 'te') continue;
    const prev = m.get(name);
    if (name === 'set-cookie') m.set(name, [...((prev as string[] | undefined) ?? []), value]);
    else m.set(name, prev === undefined ? value : `${prev as string}, ${value}`);
  }
  return m;
}

function sameFields(out: OutgoingHttpHeaders, fields: readonly string[], what: string): void {
  const want = expectedGroups(fields);
  const got = Object.keys(out).filter((k) => k !== ':status');
  invariant(got.length === want.size, `${what}: ${got.length} fields where the head has ${want.size}`);
  for (const [name, value] of want) invariant(Object.hasOwn(out, name) && JSON.stringify(out[name]) === JSON.stringify(value), `${what}: field ${name} changed on the way`);
}

/** The upstream bytes, read as response-reader.ts reads them. */
function checkResponse(buf: Buffer): void {
  const h = new MessageHead();
  let pos = 0;
  for (let heads = 0; heads < 64 && pos < buf.length; heads++) {
    const end = parseResponseHead(buf, pos, h);
    if (end === INCOMPLETE || end === MALFORMED) return;
    invariant(end > pos && end <= buf.length, 'a head past the bytes');
    const fields = headerFields(buf, h);
    if (h.status === 101) return; // not upgrading: the reader answers 502
    if (h.status < 200) {
      const out = interimResponseHeaders(buf, pos, end);
      checkSendable(out, true);
      const all: string[] = [];
      for (let i = 0; i < h.count; i++) all.push(buf.toString('latin1', h.lineStart[i] as number, buf.indexOf(58, h.lineStart[i] as number)).toLowerCase(), h.value(buf, i));
      // Informational heads keep fields the final head drops (Connection tokens); none are joined as set-cookie.
      for (const name of Object.keys(out)) if (name !== ':status') invariant(all.includes(name), `interim field ${name} is not in the head`);
      pos = end;
      continue;
    }
    const out = downstreamResponseHeaders(buf, h);
    checkSendable(out, false);
    invariant(out[':status'] === h.status, 'the status changed');
    sameFields(out, fields, 'final head');
    return;
  }
}

// ---- what nghttp2 lets through to a stream (nghttp2_helper.c, nghttp2_http.c) ---------------

const PSEUDO = new Set([':method', ':path', ':scheme', ':authority']);
const METHOD = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const PATH = /^[\x21-\x7e\x80-\xff]+$/;
const AUTHORITY = /^[!$%&'()*+,\-.0-9:;=@A-Z[\]_a-z~]*$/;
const VALUE = /^(?:[\t\x20-\x7e\x80-\xff]*)$/;
const NGHTTP2_REFUSES = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

/** The header object node:http2 hands the stream handler (toHeaderObject), or null where nghttp2 resets the stream. */
function acceptedHeaders(lines: readonly [string, string][]): IncomingHttpHeaders | null {
  const obj: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  let regular = false;
  for (const [name, value] of lines) {
    if (name.startsWith(':')) {
      if (regular || !PSEUDO.has(name) || obj[name] !== undefined) return null;
      if (name === ':method' && !METHOD.test(value)) return null;
      if (name === ':path' && !PATH.test(value)) return null;
      if (name === ':authority' && !AUTHORITY.test(value)) return null;
    } else {
      regular = true;
      if (!TOKEN.test(name) || NGHTTP2_REFUSES.has(name) || (name === 'te' && value !== 'trailers')) return null;
      if (name === 'content-length' && (!/^\d{1,15}$/.test(value) || obj[name] !== undefined)) return null;
      if (!VALUE.test(value) || /^[ \t]|[ \t]$/.test(value)) return null;
    }
    const prev = obj[name];
    if (prev === undefined) obj[name] = name === 'set-cookie' ? [value] : value;
    else if (SINGLE_VALUE.has(name)) continue;
    else if (name === 'set-cookie') (prev as string[]).push(value);
    else obj[name] = `${prev as string}${name === 'cookie' ? '; ' : ', '}${value}`;
  }
  if (obj[':method'] === undefined || obj[':path'] === undefined || obj[':scheme'] === undefined) return null;
  return obj as IncomingHttpHeaders;
}

function checkRequest(flags: number, body: Buffer): void {
  const lines = body
    .toString('latin1')
    .split('\n')
    .map((l): [string, string] => {
      const z = l.indexOf('\0');
      return z < 0 ? [l, ''] : [l.slice(0, z), l.slice(z + 1)];
    });
  const headers = acceptedHeaders(lines);
  if (headers === null) return;
  const raw = headers[':path'] as string;
  const n = raw.charCodeAt(0) !== 47 ? PATH_INVALID : normalizeTargetString(raw, 'keep');
  if (n === PATH_INVALID || n === PATH_ESCAPED_SLASH) return; // stream.ts answers 400
  const path = n === PATH_UNCHANGED ? raw : n;
  const method = headers[':method'] as string;
  const authority = headers[':authority'] ?? headers.host ?? '';
  const endStream = (flags & 2) !== 0;
  const extra = forwardedLines('', '192.0.2.1', 'http', headers['x-request-id'] === undefined ? 'rid' : null);
  const req = upstreamRequestHead(headers, method, path, authority, endStream, extra);
  const h = new MessageHead();
  h.maxBytes = req.head.length + 1;
  h.maxFields = 1000;
  const end = parseRequestHead(req.head, 0, h);
  invariant(end === req.head.length, `the upstream head does not parse (${end}, status ${h.error})`);
  const b = req.head;
  invariant(b.toString('latin1', h.methodStart, h.methodEnd) === method && b.toString('latin1', h.targetStart, h.targetEnd) === path, 'method or target changed');
  invariant(h.hostLine !== -1 && h.value(b, h.hostLine) === authority, 'the authority changed');
  invariant(req.chunked === h.chunked && !(h.chunked && h.contentLength !== -1), 'framing says another thing than `chunked`');
  invariant(!(endStream && h.chunked), 'a request without a body goes chunked');
  // Every field line: host, then the stream's fields as they were (set-cookie and such one line each), then the proxy's.
  const got: string[] = [];
  for (let i = 0; i < h.count; i++) got.push(b.toString('latin1', h.lineStart[i] as number, b.indexOf(58, h.lineStart[i] as number)), h.value(b, i));
  const want: string[] = ['host', authority];
  const trailers = !endStream && headers.trailer !== undefined;
  for (const name of Object.keys(headers)) {
    if (name.startsWith(':') || ['host', 'te', 'http2-settings', 'x-forwarded-for', 'x-forwarded-proto'].includes(name) || (trailers && name === 'content-length')) continue;
    const v = headers[name] as string | string[];
    for (const one of Array.isArray(v) ? v : [v]) want.push(name, one.replace(OWS_EDGES, ''));
  }
  if (req.chunked) want.push('transfer-encoding', 'chunked');
  for (const line of extra.split('\r\n').filter((l) => l !== '')) want.push(line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).replace(OWS_EDGES, ''));
  invariant(JSON.stringify(got) === JSON.stringify(want), 'the upstream head carries other fields than the stream');
}

// ---- inputs ------------------------------------------------------------------------------

const NAMES = ['te', 'TE', 'http2-settings', 'HTTP2-Settings', 'connection', 'keep-alive', 'proxy-connection', 'upgrade', 'transfer-encoding', 'set-cookie', 'Set-Cookie', 'content-type', 'content-length', 'constructor', '__proto__', 'toString', 'x-a', 'X-A', 'date', 'trailer', 'host', 'cookie', 'x-request-id', 'x-forwarded-for'];
const VALUES = ['trailers', 'Trailers', 'gzip', 'chunked', 'close', 'keep-alive', 'x-a', 'te, x-a', '0', '12', 'a=1', '', ' padded ', '\xa0nbsp', 'h2c'];
const name = fc.oneof(fc.constantFrom(...NAMES), fc.stringMatching(/^[a-z][a-z0-9-]{0,12}$/));
const value = fc.oneof(fc.constantFrom(...VALUES), fc.stringMatching(/^[!-~]{0,16}$/));
const fieldLines = fc.array(fc.tuple(name, value), { maxLength: 8 });

const responseHead = fc
  .tuple(fc.constantFrom(200, 204, 304, 404, 503, 100, 103, 101, 199, 599), fieldLines)
  .map(([status, fields]) => `HTTP/1.1 ${status} X\r\n${fields.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`);
const response = fc.array(responseHead, { minLength: 1, maxLength: 3 }).map((heads) => Buffer.from(`\x00${heads.join('')}`, 'latin1'));

const pseudo = fc.tuple(
  fc.constantFrom('GET', 'POST', 'HEAD', 'PUT', 'get'),
  fc.oneof(fc.constantFrom('/', '/a/b?c=d', '/%2F', '/a/../b', '*'), fc.stringMatching(/^\/[!-~]{0,20}$/)),
  fc.constantFrom('example.com', 'h:8080', '', '[::1]:1', 'u@h', 'a b'),
);
/** Mostly fields nghttp2 lets through, so that most requests reach the head's checks. */
const requestField = fc.oneof(
  { weight: 8, arbitrary: fc.tuple(fc.constantFrom('set-cookie', 'cookie', 'constructor', '__proto__', 'x-a', 'trailer', 'host', 'x-request-id', 'x-forwarded-for', 'x-forwarded-proto', 'http2-settings', 'expect', '0'), fc.stringMatching(/^[!-~]([ -~]{0,14}[!-~])?$/)) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('content-length', 'te'), fc.constantFrom('0', '12', '007', 'trailers')) },
  { weight: 1, arbitrary: fc.tuple(name, value) },
);
const request = fc
  .tuple(fc.boolean(), pseudo, fc.array(requestField, { maxLength: 8 }))
  .map(([end, [m, p, a], fields]) => {
    const lines = [`:method\0${m}`, `:scheme\0http`, `:path\0${p}`, `:authority\0${a}`, ...fields.map(([n, v]) => `${n}\0${v}`)];
    return Buffer.concat([Buffer.from([end ? 3 : 1]), Buffer.from(lines.join('\n'), 'latin1')]);
  });

const target: FuzzTarget = {
  name: 'h2-headers',
  generate: fc.oneof(response, request),
  dictionary: ['HTTP/1.1 200 OK\r\n', 'HTTP/1.1 100 Continue\r\n', '\r\n\r\n', 'te: trailers\r\n', 'http2-settings: AAMAAABkAAQAAP__\r\n', 'connection: te\r\n', 'constructor: x\r\n', '__proto__: x\r\n', '\0', '\n', ':path\0', 'trailer\0x', 'content-length\0'],
  check(input) {
    if (input.length === 0) return;
    const flags = input[0] as number;
    if ((flags & 1) === 0) checkResponse(input.subarray(1));
    else checkRequest(flags, input.subarray(1));
  },
};
export default target;
