/**
 * Filter `cors`: answers CORS preflights and marks responses to allowed origins.
 *
 *   - A request with no `origin` passes untouched (it is not a CORS request).
 *   - An origin that matches no `allowOrigins` entry passes untouched too, preflight or not,
 *     with no CORS header added: the browser then refuses the response. Counted `origin_denied`.
 *   - A preflight (`OPTIONS` with `origin` and `access-control-request-method`) from an allowed
 *     origin is answered here, 204, with `access-control-allow-origin` (the origin),
 *     `-allow-methods`, `-allow-headers`, `-max-age`, `-allow-credentials` as configured.
 *   - Any other request from an allowed origin goes on; its response gets
 *     `access-control-allow-origin`, `vary: origin`, and `-expose-headers` /
 *     `-allow-credentials` as configured. Both count `origin_allowed`.
 *
 * `allowOrigins` entries: `{ exact }`, `{ prefix }`, `{ suffix }` (compared exactly, case
 * sensitive), or `{ regex }` (JavaScript syntax, matched against the whole origin).
 */
import * as z from 'zod';
import { FilterStatus } from '../filter.js';
import type { DecoderCallbacks, HttpFilter, HttpFilterFactory, RequestHeaders, ResponseHeaders } from '../filter.js';
import type { Counter } from '../../../shm/handles.js';
import { durationMs, headerName, method } from './schema-parts.js';

const originMatcher = z
  .strictObject({ exact: z.string().optional(), prefix: z.string().optional(), suffix: z.string().optional(), regex: z.string().optional() })
  .superRefine((m, ctx) => {
    const keys = Object.keys(m).filter((k) => m[k as keyof typeof m] !== undefined);
    if (keys.length !== 1) {
      ctx.addIssue({ code: 'custom', message: 'an allowOrigins entry needs exactly one of "exact", "prefix", "suffix" or "regex"' });
      return;
    }
    if (m.regex === undefined) return;
    try {
      new RegExp(m.regex);
    } catch (err: unknown) {
      ctx.addIssue({ code: 'custom', message: `not a valid regular expression: ${err instanceof Error ? err.message : String(err)}`, path: ['regex'] });
    }
  });

const configSchema = z.strictObject({
  allowOrigins: z.array(originMatcher).min(1, { error: 'at least one origin entry is required' }),
  allowMethods: z.array(method).default([]),
  allowHeaders: z.array(headerName).default([]),
  exposeHeaders: z.array(headerName).default([]),
  maxAge: durationMs.refine((ms) => ms % 1000 === 0, { error: 'must be whole seconds (access-control-max-age counts seconds)' }).optional(),
  allowCredentials: z.boolean({ error: 'must be true or false' }).default(false),
});
export type CorsConfig = z.output<typeof configSchema>;

type OriginTest = (origin: string) => boolean;

export interface PreparedCors {
  readonly origins: readonly OriginTest[];
  /** Fixed preflight headers, without the origin. */
  readonly preflight: Readonly<Record<string, string>>;
  readonly exposeHeaders: string;
  readonly allowCredentials: boolean;
  readonly allowed: Counter;
  readonly denied: Counter;
}

function compileOrigin(m: CorsConfig['allowOrigins'][number]): OriginTest {
  if (m.exact !== undefined) {
    const want = m.exact;
    return (o) => o.length === want.length && o === want;
  }
  if (m.prefix !== undefined) {
    const want = m.prefix;
    return (o) => o.startsWith(want);
  }
  if (m.suffix !== undefined) {
    const want = m.suffix;
    return (o) => o.endsWith(want);
  }
  const re = new RegExp(`^(?:${m.regex ?? ''})$`);
  return (o) => re.test(o);
}

function prepare(config: CorsConfig, statPrefix: string, counter: (name: string) => Counter): PreparedCors {
  const preflight: Record<string, string> = {};
  if (config.allowMethods.length > 0) preflight['access-control-allow-methods'] = config.allowMethods.join(', ');
  if (config.allowHeaders.length > 0) preflight['access-control-allow-headers'] = config.allowHeaders.join(', ');
  if (config.maxAge !== undefined) preflight['access-control-max-age'] = String(config.maxAge / 1000);
  if (config.allowCredentials) preflight['access-control-allow-credentials'] = 'true';
  preflight.vary = 'origin';
  return {
    origins: config.allowOrigins.map(compileOrigin),
    preflight,
    exposeHeaders: config.exposeHeaders.join(', '),
    allowCredentials: config.allowCredentials,
    allowed: counter(`${statPrefix}origin_allowed`),
    denied: counter(`${statPrefix}origin_denied`),
  };
}

class CorsFilter implements HttpFilter {
  /** The allowed origin of this request, or null (no CORS headers on the response). */
  #origin: string | null = null;

  constructor(private readonly p: PreparedCors) {}

  decodeHeaders(headers: RequestHeaders, _end: boolean, cb: DecoderCallbacks): FilterStatus {
    const origin = headers.get('origin');
    if (origin === undefined) return FilterStatus.Continue;
    if (!this.p.origins.some((t) => t(origin))) {
      this.p.denied.inc();
      return FilterStatus.Continue;
    }
    this.p.allowed.inc();
    if (headers.method === 'OPTIONS' && headers.has('access-control-request-method')) {
      cb.sendLocalReply(204, '', { ...this.p.preflight, 'access-control-allow-origin': origin });
      return FilterStatus.Stop;
    }
    this.#origin = origin;
    return FilterStatus.Continue;
  }

  encodeHeaders(headers: ResponseHeaders): FilterStatus {
    if (this.#origin === null) return FilterStatus.Continue;
    headers.set('access-control-allow-origin', this.#origin);
    headers.add('vary', 'origin');
    if (this.p.exposeHeaders !== '') headers.set('access-control-expose-headers', this.p.exposeHeaders);
    if (this.p.allowCredentials) headers.set('access-control-allow-credentials', 'true');
    return FilterStatus.Continue;
  }
}

export const corsFilter: HttpFilterFactory<CorsConfig, PreparedCors> = {
  name: 'cors',
  configSchema,
  prepare: (config, ctx) => prepare(config, ctx.statPrefix, (n) => ctx.stats.counter(n)),
  create: (prepared) => new CorsFilter(prepared),
};
