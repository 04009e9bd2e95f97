/**
 * A route built in code rather than read from a file (the workers' warm-up plane, benchmarks,
 * tests): a path prefix and one action, run through the same schema and normalize as
 * `- match: { prefix: / }` with `cluster:` or `directResponse:` in a file, so every other
 * option gets the file's default.
 */
import { normalizeRoute, routeSchema } from './schema-router.js';
import type { DirectResponse, RouteConfig } from './types.js';

export type PrefixRouteAction = { readonly cluster: string } | { readonly directResponse: DirectResponse };

/** @throws Error when the prefix or the action is not one a config file could hold. */
export function prefixRoute(prefix: string, action: PrefixRouteAction): RouteConfig {
  return normalizeRoute(routeSchema.parse({ match: { prefix }, ...action }));
}
