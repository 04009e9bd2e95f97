/**
 * The scalar shapes every part of the schema uses: names, `host:port` addresses, durations and
 * booleans. A leaf module (it imports no other schema file), so each schema file can import it
 * without a cycle through schema.ts.
 */
import * as z from 'zod';
import { parseAddress } from './address.js';
import { parseDuration } from './duration.js';

/** Names become part of stat names (`cluster.<name>.upstream_rq_total`). */
export const NAME_PATTERN = /^[A-Za-z0-9_-]+$/;

export const name = z.string().regex(NAME_PATTERN, { error: 'must be letters, digits, "_" or "-" (it becomes part of stat names)' }).meta({ title: 'name' });

export const address = z.string({ error: 'must be a "host:port" string' }).transform((text, ctx) => {
  const r = parseAddress(text);
  if (r.ok) return r.address;
  ctx.issues.push({ code: 'custom', message: r.message, input: text });
  return z.NEVER;
}).meta({ title: 'host:port' });

/** Milliseconds, from a string with a unit (duration.ts says why a bare number is refused). */
export const duration = z.string({ error: 'must be a duration string with a unit, such as 30s or 250ms' }).transform((text, ctx) => {
  const r = parseDuration(text);
  if (r.ok) return r.ms;
  ctx.issues.push({ code: 'custom', message: r.message, input: text });
  return z.NEVER;
}).meta({ title: 'duration' });

export const bool = z.boolean({ error: 'must be true or false' });
