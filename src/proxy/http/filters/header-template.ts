/**
 * Header value templates: literal text with `%VARIABLE%` parts, `%%` for a literal percent
 * sign, in the access log's syntax. `parseTemplate` checks a value at load time (an unknown variable is a config error
 * with its character position); `compileTemplate` turns it, once per snapshot, into a list of
 * literal strings and getter functions that a request only concatenates.
 *
 * Variables: DOWNSTREAM_REMOTE_ADDRESS (`ip:port`, IPv6 in brackets),
 * DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT, DOWNSTREAM_LOCAL_ADDRESS (`ip:port`),
 * REQUESTED_SERVER_NAME (SNI, or empty), PROTOCOL (`HTTP/1.1`, `HTTP/2`), START_TIME (ISO 8601,
 * UTC, milliseconds), HOSTNAME (this machine's), REQ(name) (a request header as forwarded, ""
 * when absent; `:authority`, `:path`, `:method` also work), UPSTREAM_HOST (response side only).
 */
import { hostname } from 'node:os';
import type { RequestHeaders, StreamInfo } from '../filter.js';
import { parseFormat, type FormatProblem } from '../../access-log/parse.js';

export type TemplateSide = 'request' | 'response';

/** What a compiled template reads: the exchange, and the request's headers (on both sides). */
export type TemplateGetter = (info: StreamInfo, request: RequestHeaders | null) => string;

type Part = { readonly literal: string } | { readonly variable: string; readonly arg: string | null };

/** A refusal says at which character (0-based `offset`, 1-based in the message) the problem starts. */
export type ParseResult = { ok: true; parts: Part[] } | { ok: false; offset: number; message: string };

const hostPort = (host: string, port: number): string => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

const SIMPLE: Readonly<Record<string, TemplateGetter>> = {
  DOWNSTREAM_REMOTE_ADDRESS: (i) => hostPort(i.downstreamRemoteAddress, i.downstreamRemotePort),
  DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT: (i) => i.downstreamRemoteAddress,
  DOWNSTREAM_LOCAL_ADDRESS: (i) => hostPort(i.downstreamLocalAddress, i.downstreamLocalPort),
  REQUESTED_SERVER_NAME: (i) => i.requestedServerName,
  PROTOCOL: (i) => i.protocol,
  START_TIME: (i) => new Date(i.startTime).toISOString(),
  UPSTREAM_HOST: (i) => i.upstreamHost,
};
const RESPONSE_ONLY = new Set(['UPSTREAM_HOST']);

/**
 * Splits a template into parts, or says what is wrong and at which character (1-based). The
 * syntax is the access log's (access-log/parse.ts reads both); a header value takes a subset
 * of its operators, without alternatives, truncation or time formats.
 */
export function parseTemplate(text: string, side: TemplateSide): ParseResult {
  const f = parseFormat(text);
  if (!f.ok) {
    const p = f.problems[0] as FormatProblem;
    return { ok: false, offset: p.offset, message: `${p.message} (at character ${p.offset + 1})` };
  }
  const parts: Part[] = [];
  for (const part of f.parts) {
    if (typeof part === 'string') {
      parts.push({ literal: part });
      continue;
    }
    const where = `at character ${part.offset + 1}`;
    const name = part.op;
    if (name !== 'REQ' && name !== 'HOSTNAME' && SIMPLE[name] === undefined) return { ok: false, offset: part.offset, message: `%${name}% is not known in header values (${where})` };
    if (side === 'request' && RESPONSE_ONLY.has(name)) return { ok: false, offset: part.offset, message: `%${name}% (${where}) is only known on the response side` };
    if (part.names.length > 1 || part.maxLength !== null || part.timeFormat !== null) {
      return { ok: false, offset: part.offset, message: `%${name}% (${where}): header values take %REQ(name)% and %START_TIME% only, without alternatives, ":N" or a time format` };
    }
    parts.push({ variable: name, arg: name === 'REQ' ? (part.names[0] as string).toLowerCase() : null });
  }
  return { ok: true, parts };
}

/** A compiled template: a constant, or parts to concatenate. */
export class CompiledTemplate {
  constructor(
    private readonly constant: string | null,
    private readonly parts: readonly (string | TemplateGetter)[],
  ) {}

  render(info: StreamInfo, request: RequestHeaders | null): string {
    if (this.constant !== null) return this.constant;
    let out = '';
    for (const p of this.parts) out += typeof p === 'string' ? p : p(info, request);
    return out;
  }
}

/** Compiles a template that `parseTemplate` accepted (the schema ran it); throws otherwise. */
export function compileTemplate(text: string, side: TemplateSide): CompiledTemplate {
  const r = parseTemplate(text, side);
  if (!r.ok) throw new Error(`header template "${text}": ${r.message}`);
  const parts = r.parts.map((p): string | TemplateGetter => {
    if ('literal' in p) return p.literal;
    if (p.variable === 'HOSTNAME') return hostname();
    if (p.variable === 'REQ') return requestGetter(p.arg as string);
    return SIMPLE[p.variable] as TemplateGetter;
  });
  if (parts.every((p) => typeof p === 'string')) return new CompiledTemplate(parts.join(''), []);
  return new CompiledTemplate(null, parts);
}

function requestGetter(name: string): TemplateGetter {
  switch (name) {
    case ':authority':
      return (_i, r) => r?.authority ?? '';
    case ':path':
      return (_i, r) => r?.path ?? '';
    case ':method':
      return (_i, r) => r?.method ?? '';
    case ':scheme':
      return (_i, r) => r?.scheme ?? '';
    default:
      return (_i, r) => r?.get(name) ?? '';
  }
}
