/**
 * Header value templates: literal text with `%VARIABLE%` parts, `%%` for a literal percent
 * sign. `parseTemplate` checks a value at load time (an unknown variable is a config error
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
import { TOKEN } from './schema-parts.js';

export type TemplateSide = 'request' | 'response';

/** What a compiled template reads: the exchange, and the request's headers (on both sides). */
export type TemplateGetter = (info: StreamInfo, request: RequestHeaders | null) => string;

type Part = { readonly literal: string } | { readonly variable: string; readonly arg: string | null };

export type ParseResult = { ok: true; parts: Part[] } | { ok: false; message: string };

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
const REQ_PSEUDO = new Set([':authority', ':path', ':method', ':scheme']);
const VARIABLE = /^([A-Z_]+)(?:\((.*)\))?$/;

/** Splits a template into parts, or says what is wrong and at which character (1-based). */
export function parseTemplate(text: string, side: TemplateSide): ParseResult {
  const parts: Part[] = [];
  let literal = '';
  let i = 0;
  while (i < text.length) {
    const pct = text.indexOf('%', i);
    if (pct < 0) {
      literal += text.slice(i);
      break;
    }
    literal += text.slice(i, pct);
    if (text[pct + 1] === '%') {
      literal += '%';
      i = pct + 2;
      continue;
    }
    const close = text.indexOf('%', pct + 1);
    const at = `at character ${pct + 1}`;
    if (close < 0) return { ok: false, message: `unterminated variable ${at}: write %% for a literal "%"` };
    const body = text.slice(pct + 1, close);
    const m = VARIABLE.exec(body);
    const name = m?.[1] ?? '';
    const arg = m?.[2] ?? null;
    if (m === null || (name === 'REQ') !== (arg !== null) || (name !== 'REQ' && SIMPLE[name] === undefined && name !== 'HOSTNAME')) {
      return { ok: false, message: `unknown variable %${body}% ${at}` };
    }
    if (side === 'request' && RESPONSE_ONLY.has(name)) return { ok: false, message: `%${name}% ${at} is only known on the response side` };
    if (arg !== null && !TOKEN.test(arg) && !REQ_PSEUDO.has(arg)) return { ok: false, message: `%REQ(${arg})% ${at}: "${arg}" is not a header name` };
    if (literal !== '') parts.push({ literal });
    literal = '';
    parts.push({ variable: name, arg: arg?.toLowerCase() ?? null });
    i = close + 1;
  }
  if (literal !== '') parts.push({ literal });
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
