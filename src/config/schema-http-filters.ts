import * as z from 'zod';
import { HTTP_FILTERS } from '../proxy/http/filters/index.js';
import type { HttpFilterConfig } from './types-http-filters.js';

/**
 * `httpFilters:` on an http listener: a list run in order, each entry a mapping with exactly
 * one key, the filter's name, whose value is that filter's config. The value is checked by the
 * filter's own schema, and its issues keep their paths under the entry, so an error reads
 * `httpFilters[1].localRateLimit.fillInterval: ...` at the value's line and column.
 */
export const httpFilterEntry = z.unknown().transform((value, ctx): HttpFilterConfig => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    ctx.issues.push({ code: 'custom', message: `must be a mapping with one key, the filter's name (${known()})`, input: value });
    return z.NEVER;
  }
  const keys = Object.keys(value);
  if (keys.length !== 1) {
    ctx.issues.push({ code: 'custom', message: `must have exactly one key, the filter's name (${known()}); found ${keys.length}`, input: value });
    return z.NEVER;
  }
  const name = keys[0] as string;
  const factory = HTTP_FILTERS.get(name);
  if (factory === undefined) {
    ctx.issues.push({ code: 'custom', message: `unknown filter "${name}" (known: ${known()})`, input: value });
    return z.NEVER;
  }
  const parsed = factory.configSchema.safeParse((value as Record<string, unknown>)[name] ?? {});
  if (!parsed.success) {
    for (const issue of parsed.error.issues) ctx.issues.push({ ...issue, path: [name, ...issue.path] } as (typeof ctx.issues)[number]);
    return z.NEVER;
  }
  return { name, config: parsed.data };
}).meta({ id: 'httpFilter' });

function known(): string {
  return [...HTTP_FILTERS.keys()].join(', ');
}

export const httpFiltersSchema = z.array(httpFilterEntry);
