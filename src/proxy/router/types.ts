/**
 * The router's contract: a listener's routing config compiled once per snapshot into a
 * `RouteTable`, and one `RouteDecision` per request from `selectRoute` (any request view) or
 * `routeHttp1` (a raw HTTP/1 head, with path normalization and the byte-loop fast path).
 *
 * Decisions for cluster and direct-response routes are built with the table and shared: the
 * request path allocates nothing for them. A redirect's `Location` depends on the request, so
 * a redirect decision is a new object. Everything here is immutable; a table can be used by
 * any number of connections of its worker.
 */
import type { DirectResponse } from '../../config/types.js';
import type { EscapedSlashesPolicy, RedirectCode, RetryPolicyConfig } from '../../config/types-router.js';
import type { RedirectConfig } from '../../config/types-router.js';

/**
 * The request as the router reads it. Only `method`, `authority` and `path` are read for every
 * request (and `authority` only when the listener has more than a catch-all virtual host);
 * `header` and `query` only when a candidate route has such matchers.
 */
export interface RouteRequest {
  readonly method: string;
  /** `Host` (HTTP/1) or `:authority` (HTTP/2), as sent; "" when absent. */
  readonly authority: string;
  /** Normalized origin-form path with its query (`/a/b?c=d`): see normalize-path.ts. */
  readonly path: string;
  /** The scheme the client used; redirects keep it unless they name one. Default `http`. */
  readonly scheme?: 'http' | 'https';
  /** A header's value (several lines joined by ", "), by lower-case name; undefined when absent. */
  header(name: string): string | undefined;
  /** The first value of a query parameter, percent-decoded; "" for `?name`; undefined when absent. */
  query(name: string): string | undefined;
}

/** What a connection manager applies to an exchange sent upstream. Shared by every request of the route. */
export interface RouteInfo {
  /** The route's configured name, or `<virtual host>/<index>` when it has none. */
  readonly name: string;
  readonly virtualHost: string;
  /** True when `rewritePath` or `rewriteAuthority` would change anything. */
  readonly rewrites: boolean;
  readonly prefixRewrite: string | null;
  /** Length of the matched prefix that `prefixRewrite` replaces. */
  readonly prefixLength: number;
  /** Compiled with the `g` flag (replace every match). */
  readonly regexRewrite: { readonly pattern: RegExp; readonly substitution: string } | null;
  readonly hostRewrite: string | null;
  /** Whole request, retries included: null = the exchange's default, 0 = none. */
  readonly timeoutMs: number | null;
  readonly perTryTimeoutMs: number | null;
  readonly retryPolicy: RetryPolicyConfig | null;
}

export type RejectReason = 'bad-path' | 'escaped-slash' | 'no-virtual-host' | 'no-route';

export interface ClusterDecision<C> {
  readonly kind: 'cluster';
  readonly route: RouteInfo;
  /** For weighted clusters: the one picked for this request. */
  readonly clusterName: string;
  /** What the table's `resolveCluster` returned for it. */
  readonly cluster: C;
}

export interface DirectDecision<D> {
  readonly kind: 'direct';
  readonly route: RouteInfo;
  readonly status: number;
  /** What the table's `prepareDirect` returned (by default the config's `{ status, body }`). */
  readonly response: D;
}

export interface RedirectDecision {
  readonly kind: 'redirect';
  readonly route: RouteInfo;
  readonly status: RedirectCode;
  /** Absolute URL to send as `Location`. */
  readonly location: string;
}

/** No route: 400 for a path that cannot be normalized, 404 when no virtual host or route matches. */
export interface RejectDecision {
  readonly kind: 'reject';
  readonly status: 400 | 404;
  readonly reason: RejectReason;
}

export type RouteDecision<C = string, D = DirectResponse> = ClusterDecision<C> | DirectDecision<D> | RedirectDecision | RejectDecision;

/** How a table turns names into what the data plane holds, so no lookup happens per request. */
export interface RouteResolvers<C, D> {
  /** Called once per cluster reference; undefined means the name is unknown (a bug: the config checks references). */
  resolveCluster(name: string): C | undefined;
  /** Called once per direct-response route (for example to pre-build the wire images). */
  prepareDirect?(response: DirectResponse): D;
}

/** A random source in [0, 1): `Math.random`, or `seededRandom(seed)` in tests. */
export type RandomSource = () => number;

/** A compiled listener. Opaque outside src/proxy/router/; read its fields only for logs. */
export interface RouteTable<C = string, D = DirectResponse> {
  readonly listenerName: string;
  readonly normalizePath: boolean;
  readonly escapedSlashes: EscapedSlashesPolicy;
  /** The compiled virtual hosts (domains.ts, table.ts); internal to the router. */
  readonly hosts: VirtualHostIndex<C, D>;
}

// ---- compiled tables (table.ts builds them, domains.ts indexes them, select.ts reads them) ----

export const enum ValueTest {
  Exact = 0,
  Prefix = 1,
  Suffix = 2,
  Regex = 3,
  Present = 4,
}

export interface ValueMatcher {
  readonly name: string;
  readonly test: ValueTest;
  /** The string to compare with; "" for Regex and Present. */
  readonly value: string;
  readonly regex: RegExp | null;
  /** Headers only: negate the result (an absent header then matches an exact test). */
  readonly invert: boolean;
}

export const enum PathKind {
  Prefix = 0,
  Exact = 1,
  Regex = 2,
}

export type CompiledAction<C, D> =
  | { readonly kind: 'fixed'; readonly decision: ClusterDecision<C> | DirectDecision<D> }
  | { readonly kind: 'weighted'; readonly total: number; readonly cumulative: readonly number[]; readonly decisions: readonly ClusterDecision<C>[] }
  | { readonly kind: 'redirect'; readonly redirect: RedirectConfig };

export interface CompiledRoute<C, D> {
  readonly pathKind: PathKind;
  /** The prefix or exact path; lower case when not case-sensitive. */
  readonly value: string;
  /** The prefix as bytes, for the byte loop over an unchanged HTTP/1 target. */
  readonly bytes: Buffer;
  readonly caseSensitive: boolean;
  readonly regex: RegExp | null;
  /** null: any method. */
  readonly methods: readonly string[] | null;
  readonly headers: readonly ValueMatcher[] | null;
  readonly query: readonly ValueMatcher[] | null;
  readonly action: CompiledAction<C, D>;
  readonly info: RouteInfo;
}

export interface CompiledVirtualHost<C, D> {
  readonly name: string;
  readonly routes: readonly CompiledRoute<C, D>[];
  /** Every route is a case-sensitive prefix with no other matcher: for an unchanged HTTP/1 target the byte loop decides. */
  readonly fast: boolean;
}

export interface Wildcard<C, D> {
  /** The domain without its `*`. */
  readonly text: string;
  readonly host: CompiledVirtualHost<C, D>;
}

export interface VirtualHostIndex<C, D> {
  /** Exact domains, lower case, with or without a port. */
  readonly exact: ReadonlyMap<string, CompiledVirtualHost<C, D>>;
  /** Whether some exact domain names a port (only then is the full authority looked up). */
  readonly exactWithPort: boolean;
  /** `*suffix` domains, longest first. */
  readonly suffixes: readonly Wildcard<C, D>[];
  /** `prefix*` domains, longest first. */
  readonly prefixes: readonly Wildcard<C, D>[];
  readonly any: CompiledVirtualHost<C, D> | null;
  /** Set when one virtual host takes every request: the authority need not be read at all. */
  readonly only: CompiledVirtualHost<C, D> | null;
}

/** Domains are lower case and unique across hosts (the config checks guarantee both). */
