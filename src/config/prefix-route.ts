/**
 * A route built in code rather than read from a file (the workers' warm-up plane, benchmarks,
 * tests): a path prefix and one action, with every other route option at its default, as the
 * schema's normalize fills them in for `- match: { prefix: / }` with `cluster:` or
 * `directResponse:`.
 */
import type { DirectResponse, RouteConfig } from './types.js';

export type PrefixRouteAction = { readonly cluster: string } | { readonly directResponse: DirectResponse };

export function prefixRoute(prefix: string, action: PrefixRouteAction): RouteConfig {
  return {
    name: null,
    match: { prefix, caseSensitive: true, headers: [], queryParameters: [], methods: [] },
    prefixRewrite: null,
    regexRewrite: null,
    hostRewrite: null,
    timeoutMs: null,
    perTryTimeoutMs: null,
    retryPolicy: null,
    ...action,
  };
}
