/**
 * The HTTP filters a config can name under `httpFilters:`, by their config key. Each one is a
 * file of its own, an `HttpFilterFactory` (filter.ts); adding a filter is adding a file and a
 * line here.
 */
import type { HttpFilterFactory } from '../filter.js';
import { corsFilter } from './cors.js';
import { faultFilter } from './fault.js';
import { headersFilter } from './headers.js';
import { localRateLimitFilter } from './local-rate-limit.js';

// The factories' config types differ; the registry hands each its own validated output.
export type AnyHttpFilterFactory = HttpFilterFactory<unknown, unknown>;

export const HTTP_FILTERS: ReadonlyMap<string, AnyHttpFilterFactory> = new Map<string, AnyHttpFilterFactory>(
  [headersFilter, localRateLimitFilter, corsFilter, faultFilter].map((f) => [f.name, f]),
);

/** The stat segment of a filter name: `localRateLimit` → `local_rate_limit`. */
export function statSegment(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
