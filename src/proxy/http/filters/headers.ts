/**
 * Filter `headers`: adds, sets and removes request and response header fields. Per side the
 * order is: `remove`, then `set` (replaces every value), then `add` (one more value). Values are
 * templates (header-template.ts), compiled once in `prepare`; a value that renders empty is
 * not written, so `%REQUESTED_SERVER_NAME%` on a plain-text request adds nothing.
 *
 *   - headers: { request: { set: { x-client: "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%" } },
 *                response: { remove: [server], add: { x-upstream: "%UPSTREAM_HOST%" } } }
 */
import * as z from 'zod';
import { FilterStatus } from '../filter.js';
import type { DecoderCallbacks, EncoderCallbacks, HeaderMap, HttpFilter, HttpFilterFactory, RequestHeaders, ResponseHeaders } from '../filter.js';
import { compileTemplate, parseTemplate, type CompiledTemplate, type TemplateSide } from './header-template.js';
import { FIELD_VALUE_FORBIDDEN, TOKEN, headerName } from './schema-parts.js';

/**
 * Fields that frame the message or manage the connection belong to the codec: a filter that
 * changed them could make the proxy and the upstream disagree on where a message ends.
 */
const CODEC_OWNED = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade']);
const codecOwned = (name: string): string => `"${name}" is managed by the proxy (message framing or the connection) and cannot be changed by a filter`;

function templateValue(side: TemplateSide) {
  return z.string({ error: 'must be a string (quote it if it looks like a number)' }).superRefine((text, ctx) => {
    if (FIELD_VALUE_FORBIDDEN.test(text)) {
      ctx.addIssue({ code: 'custom', message: 'a header value may not contain CR, LF or NUL' });
      return;
    }
    const r = parseTemplate(text, side);
    if (!r.ok) ctx.addIssue({ code: 'custom', message: r.message });
  });
}

// Keys are checked here rather than by a key schema so the message says what a name may be
// and points at the entry; they are lower-cased in `compileSide`.
function sideSchema(side: TemplateSide) {
  const values = z.record(z.string(), templateValue(side)).superRefine((r, ctx) => {
    for (const key of Object.keys(r)) {
      if (!TOKEN.test(key)) ctx.addIssue({ code: 'custom', message: `"${key}" is not a header name (letters, digits and !#$%&'*+.^_\`|~-)`, path: [key] });
      else if (CODEC_OWNED.has(key.toLowerCase())) ctx.addIssue({ code: 'custom', message: codecOwned(key), path: [key] });
    }
  });
  return z.strictObject({
    add: values.optional(),
    set: values.optional(),
    remove: z.array(headerName.refine((n) => !CODEC_OWNED.has(n), { error: (i) => codecOwned(String(i.input)) })).optional(),
  });
}

const configSchema = z.strictObject({ request: sideSchema('request').optional(), response: sideSchema('response').optional() });
export type HeadersConfig = z.output<typeof configSchema>;
type SideConfig = NonNullable<HeadersConfig['request']>;

interface Edit {
  readonly name: string;
  readonly value: CompiledTemplate;
}

/** One side's edits, compiled. */
export interface SideEdits {
  readonly remove: readonly string[];
  readonly set: readonly Edit[];
  readonly add: readonly Edit[];
}

export interface PreparedHeaders {
  readonly request: SideEdits | null;
  readonly response: SideEdits | null;
}

function compileSide(cfg: SideConfig | undefined, side: TemplateSide): SideEdits | null {
  if (cfg === undefined) return null;
  const edits = (r: Record<string, string> | undefined): Edit[] =>
    Object.entries(r ?? {}).map(([name, text]) => ({ name: name.toLowerCase(), value: compileTemplate(text, side) }));
  return { remove: cfg.remove ?? [], set: edits(cfg.set), add: edits(cfg.add) };
}

function apply(edits: SideEdits, map: HeaderMap, cb: DecoderCallbacks | EncoderCallbacks, request: RequestHeaders | null): void {
  for (const name of edits.remove) map.remove(name);
  for (const e of edits.set) {
    const v = e.value.render(cb.streamInfo, request);
    if (v !== '') map.set(e.name, v);
  }
  for (const e of edits.add) {
    const v = e.value.render(cb.streamInfo, request);
    if (v !== '') map.add(e.name, v);
  }
}

class HeadersFilter implements HttpFilter {
  #request: RequestHeaders | null = null;

  constructor(private readonly p: PreparedHeaders) {}

  decodeHeaders(headers: RequestHeaders, _end: boolean, cb: DecoderCallbacks): FilterStatus {
    this.#request = headers;
    if (this.p.request !== null) apply(this.p.request, headers, cb, headers);
    return FilterStatus.Continue;
  }

  encodeHeaders(headers: ResponseHeaders, _end: boolean, cb: EncoderCallbacks): FilterStatus {
    if (this.p.response !== null) apply(this.p.response, headers, cb, this.#request);
    return FilterStatus.Continue;
  }
}

export const headersFilter: HttpFilterFactory<HeadersConfig, PreparedHeaders> = {
  name: 'headers',
  configSchema,
  prepare: (config) => ({ request: compileSide(config.request, 'request'), response: compileSide(config.response, 'response') }),
  create: (prepared) => new HeadersFilter(prepared),
};
