/**
 * Compiles a parsed format into a `LineFormatter`, once per snapshot. The formatter is a flat
 * list of literal strings and getters (named top-level functions, no per-line closures); a
 * line is their concatenation. Nothing is parsed per line.
 *
 * Escaping, so that no client can forge or split a line: in text formats every value that can
 * carry client bytes has its control characters (C0, DEL, C1, U+2028/U+2029), `"` and `\`
 * written as `\xHH` (`\uHHHH` above 0xFF); in JSON formats each value is a JSON string
 * (JSON.stringify's escaping). A missing or empty value prints `-`.
 */
import { hostname } from 'node:os';
import type { AccessLogEntry, LineFormatter } from './types.js';
import type { FormatPart, OperatorPart } from './parse.js';
import { compileStrftime } from './strftime.js';

type Getter = (e: AccessLogEntry) => string;

const MISSING = '-';
// biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are what the log line escapes
const UNSAFE = /[\x00-\x1f"\\\x7f-\x9f\u2028\u2029]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are what the log line escapes
const UNSAFE_ALL = /[\x00-\x1f"\\\x7f-\x9f\u2028\u2029]/g;

function hex(c: string): string {
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** The text-format escaping described above; `-` for an empty or absent value. */
export function escapeText(s: string | undefined): string {
  if (s === undefined || s === '') return MISSING;
  // Test first: nearly every value is clean, and test() allocates nothing.
  return UNSAFE.test(s) ? s.replace(UNSAFE_ALL, hex) : s;
}

function hostPort(host: string, port: number): string {
  if (host === '') return '';
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

// ---- getters: raw values (escaping is applied by the compiled format) ----------------------

const ISO_START = compileStrftime('%Y-%m-%dT%H:%M:%S.%3fZ');
if (!ISO_START.ok) throw new Error('unreachable: the default time format compiles');
const isoStart = ISO_START.render;

const RAW: Readonly<Record<string, Getter>> = {
  START_TIME: (e) => isoStart(e.streamInfo.startTime),
  PROTOCOL: (e) => e.streamInfo.protocol,
  RESPONSE_CODE: (e) => (e.status > 0 ? String(e.status) : ''),
  RESPONSE_FLAGS: (e) => e.streamInfo.responseFlags,
  BYTES_RECEIVED: (e) => String(e.bytesReceived),
  BYTES_SENT: (e) => String(e.bytesSent),
  DURATION: (e) => String(Math.max(0, Math.floor(e.durationMs))),
  UPSTREAM_HOST: (e) => e.streamInfo.upstreamHost,
  UPSTREAM_CLUSTER: (e) => e.streamInfo.clusterName,
  ROUTE_NAME: (e) => e.streamInfo.routeName,
  DOWNSTREAM_REMOTE_ADDRESS: (e) => hostPort(e.streamInfo.downstreamRemoteAddress, e.streamInfo.downstreamRemotePort),
  DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT: (e) => e.streamInfo.downstreamRemoteAddress,
  DOWNSTREAM_LOCAL_ADDRESS: (e) => hostPort(e.streamInfo.downstreamLocalAddress, e.streamInfo.downstreamLocalPort),
  REQUESTED_SERVER_NAME: (e) => e.streamInfo.requestedServerName,
  CONNECTION_ID: (e) => (e.connectionId > 0 ? String(e.connectionId) : ''),
};

function requestValue(e: AccessLogEntry, name: string): string | undefined {
  const r = e.request;
  if (r === null) return undefined;
  switch (name) {
    case ':METHOD':
      return r.method;
    case ':PATH':
      return r.path;
    case ':AUTHORITY':
      return r.authority;
    case ':SCHEME':
      return r.scheme;
    default:
      return r.get(name);
  }
}

function headerGetter(part: OperatorPart): Getter {
  const [first, second] = part.names as [string, string | undefined];
  const max = part.maxLength;
  const request = part.op === 'REQ';
  return (e) => {
    let v = request ? requestValue(e, first) : e.response?.get(first);
    if ((v === undefined || v === '') && second !== undefined) v = request ? requestValue(e, second) : e.response?.get(second);
    if (v === undefined) return '';
    return max !== null && v.length > max ? v.slice(0, max) : v;
  };
}

function rawGetter(part: OperatorPart): Getter | string {
  if (part.op === 'REQ' || part.op === 'RESP') return headerGetter(part);
  if (part.op === 'HOSTNAME') return hostname();
  if (part.op === 'START_TIME' && part.timeFormat !== null) {
    const t = compileStrftime(part.timeFormat);
    // The config was validated with the same parser; a failure here is a bug.
    if (!t.ok) throw new Error(`unreachable: invalid time format ${part.timeFormat}`);
    const render = t.render;
    return (e) => render(e.streamInfo.startTime);
  }
  const g = RAW[part.op];
  if (g === undefined) throw new Error(`unreachable: no getter for %${part.op}%`);
  return g;
}

/** Which header maps a list of parts reads. */
export function readsHeaders(parts: readonly FormatPart[]): { request: boolean; response: boolean } {
  let request = false;
  let response = false;
  for (const p of parts) {
    if (typeof p === 'string') continue;
    if (p.op === 'REQ') request = true;
    if (p.op === 'RESP') response = true;
  }
  return { request, response };
}

// ---- text ---------------------------------------------------------------------------------

/** A list of literals and getters whose values are already escaped for the target format. */
type Segments = readonly (string | Getter)[];

function segments(parts: readonly FormatPart[], escapeValue: (s: string) => string): Segments {
  const out: (string | Getter)[] = [];
  for (const p of parts) {
    const seg = typeof p === 'string' ? p : rawGetter(p);
    if (typeof seg === 'string') {
      // A literal of the format is written as is; a constant value (HOSTNAME) is escaped.
      const text = typeof p === 'string' ? seg : escapeValue(seg);
      const last = out[out.length - 1];
      if (typeof last === 'string') out[out.length - 1] = last + text;
      else out.push(text);
    } else out.push((e) => escapeValue(seg(e)));
  }
  return out;
}

function render(segs: Segments, e: AccessLogEntry): string {
  let s = '';
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i]!;
    s += typeof seg === 'string' ? seg : seg(e);
  }
  return s;
}

export function compileText(parts: readonly FormatPart[]): LineFormatter {
  const segs = segments(parts, escapeText);
  return (e) => `${render(segs, e)}\n`;
}

// ---- JSON ---------------------------------------------------------------------------------

/** `{ key: parts }` in config order; each value is rendered as text, then made a JSON string. */
export function compileJson(fields: readonly (readonly [string, readonly FormatPart[]])[]): LineFormatter {
  const plain = (s: string): string => (s === '' ? MISSING : s);
  const compiled = fields.map(([key, parts], i) => ({ prefix: `${i === 0 ? '{' : ','}${JSON.stringify(key)}:`, segs: segments(parts, plain) }));
  return (e) => {
    let s = '';
    for (let i = 0; i < compiled.length; i++) {
      const f = compiled[i]!;
      s += f.prefix + JSON.stringify(render(f.segs, e));
    }
    return compiled.length === 0 ? '{}\n' : `${s}}\n`;
  };
}
