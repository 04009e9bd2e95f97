/**
 * Zod pieces the filter schemas share. Outputs are plain data (numbers, strings, arrays),
 * because the validated config is posted to worker threads, where `prepare` compiles it.
 */
import * as z from 'zod';
import { parseDuration } from '../../../config/duration.js';

/** A duration string with a unit (`250ms`, `1s`), as everywhere in the config; output: ms. */
export const durationMs = z.string({ error: 'must be a duration string with a unit, such as 1s or 250ms' }).transform((text, ctx) => {
  const r = parseDuration(text);
  if (r.ok) return r.ms;
  ctx.issues.push({ code: 'custom', message: r.message, input: text });
  return z.NEVER;
});

/** A percentage, 0..100, decimals allowed (`1.5` is one request in about 67). */
export const percentage = z
  .number({ error: 'must be a number from 0 to 100 (a percentage; decimals allowed)' })
  .min(0, { error: 'must be 0..100' })
  .max(100, { error: 'must be 0..100' });

/** RFC 9110 token characters: what a field name or a method may be made of. */
export const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** A header field name; output lower case. Pseudo-headers (`:path`) are not fields. */
export const headerName = z
  .string({ error: 'must be a header name' })
  .regex(TOKEN, { error: 'must be a header name (letters, digits and !#$%&\'*+.^_`|~-)' })
  .transform((s) => s.toLowerCase());

/** A method such as GET; kept as written (methods are case-sensitive). */
export const method = z.string({ error: 'must be an HTTP method' }).regex(TOKEN, { error: 'must be an HTTP method (a token, such as GET)' });

/** No CR, LF or NUL: a value that could split a header block is refused at load time. */
export const FIELD_VALUE_FORBIDDEN = /[\r\n\0]/;
