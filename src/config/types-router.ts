/**
 * The `virtualHosts:` form of an http listener's routing, as the rest of the program sees it:
 * validated, defaults filled in, durations in milliseconds, domains in lower case. The shape
 * follows the YAML (proxyctl.yaml(5)) key for key; a key the file left out is `null` (a
 * scalar) or `[]` (a list), so every route has the same keys.
 *
 * Regexes are kept as their source text: the config is plain data (it is hashed as JSON and
 * posted to worker threads). They were compiled once when the file was checked, and the router
 * compiles them again per snapshot (`src/proxy/router/table.ts`).
 */

/** A response the proxy sends itself. */
export interface DirectResponse {
  /** 200..599. */
  readonly status: number;
  /** Sent as is. Default: "" (an empty body). */
  readonly body: string;
}

/** What to do with `%2F` and `%5C` in a request path. See `src/proxy/router/normalize-path.ts`. */
export type EscapedSlashesPolicy = 'keep' | 'reject' | 'unescape';

/** The listener keys that steer routing. Absent keys keep their defaults (see each). */
export interface HttpRoutingKeys {
  /** The `virtualHosts:` form; absent for the `routes:` form (then `routes` holds the rules and this is not set). */
  readonly virtualHosts?: readonly VirtualHostConfig[];
  /** Default `keep`. */
  readonly pathWithEscapedSlashes?: EscapedSlashesPolicy;
  /** Default true: normalize paths before matching and forwarding. */
  readonly normalizePath?: boolean;
}

export interface VirtualHostConfig {
  /** Matches `^[A-Za-z0-9_-]+$`, unique within the listener. */
  readonly name: string;
  /**
   * Lower case, at least one. `example.com`, `example.com:8080` (only exact domains may name a
   * port), `*.example.com` / `*-api.example.com` (suffix), `api.*` (prefix) or `*` (any). No
   * two virtual hosts of a listener claim the same domain.
   */
  readonly domains: readonly string[];
  /** At least one, tried in order; the first that matches wins. */
  readonly routes: readonly VirtualHostRouteConfig[];
}

export type VirtualHostRouteConfig = RouteOptions &
  (
    | { readonly cluster: string }
    | { readonly weightedClusters: readonly WeightedCluster[] }
    | { readonly directResponse: DirectResponse }
    | { readonly redirect: RedirectConfig }
  );

export interface RouteOptions {
  /** Matches `^[A-Za-z0-9_-]+$`, unique within its virtual host; for logs and stats. */
  readonly name: string | null;
  readonly match: RouteMatchConfig;
  /** Replaces the matched prefix of the path (only with `match.prefix`). */
  readonly prefixRewrite: string | null;
  /** Every match of `pattern` in the path (query excluded) is replaced, as `String.prototype.replace` with a global regex does. */
  readonly regexRewrite: RegexRewrite | null;
  /** Replaces the authority (`Host`) sent upstream. */
  readonly hostRewrite: string | null;
  /** The whole request, retries included; 0 = none; null = the exchange's default. */
  readonly timeoutMs: number | null;
  /** Each try; null = not set (the whole-request timeout applies). */
  readonly perTryTimeoutMs: number | null;
  readonly retryPolicy: RetryPolicyConfig | null;
}

/** Exactly one of `prefix`, `path` and `regex`, plus the optional matchers (all must hold). */
export type RouteMatchConfig = MatchExtras & ({ readonly prefix: string } | { readonly path: string } | { readonly regex: string });

export interface MatchExtras {
  /** For `prefix` and `path`; default true. */
  readonly caseSensitive: boolean;
  readonly headers: readonly HeaderMatcherConfig[];
  readonly queryParameters: readonly QueryParameterMatcherConfig[];
  /** Upper case; empty = any method. */
  readonly methods: readonly string[];
}

/** `name` is lower case. Exactly one test; `invert` negates the result (an absent header then matches). */
export type HeaderMatcherConfig = { readonly name: string; readonly invert: boolean } & (
  | { readonly exact: string }
  | { readonly prefix: string }
  | { readonly suffix: string }
  | { readonly regex: string }
  | { readonly present: true }
);

/** `name` as written (query parameter names are case-sensitive). Values are compared percent-decoded. */
export type QueryParameterMatcherConfig = { readonly name: string } & (
  | { readonly exact: string }
  | { readonly regex: string }
  | { readonly present: true }
);

export interface WeightedCluster {
  readonly name: string;
  /** A positive integer; a cluster gets weight / (sum of weights) of the requests. */
  readonly weight: number;
}

export interface RegexRewrite {
  readonly pattern: string;
  /** `$1`, `$<name>`, `$&` and `$$` as in `String.prototype.replace`. */
  readonly substitution: string;
}

export type RedirectCode = 301 | 302 | 303 | 307 | 308;

export interface RedirectConfig {
  readonly schemeRedirect: 'http' | 'https' | null;
  /** A host name or IP literal without a port; replaces the request's host and drops its port. */
  readonly hostRedirect: string | null;
  readonly portRedirect: number | null;
  /** Replaces the whole path; a query in it replaces the request's query. */
  readonly pathRedirect: string | null;
  /** Replaces the matched prefix (only with `match.prefix`; not with `pathRedirect`). */
  readonly prefixRewrite: string | null;
  readonly stripQuery: boolean;
  /** Default 301. */
  readonly responseCode: RedirectCode;
}

export const RETRY_ON = ['5xx', 'gateway-error', 'connect-failure', 'reset', 'refused-stream', 'retriable-4xx', 'retriable-status-codes'] as const;
/**
 * When the exchange may try again: `5xx` (any 5xx response, or no response), `gateway-error`
 * (502, 503, 504), `connect-failure`, `reset` (the upstream closed or reset before the response
 * head), `refused-stream` (HTTP/2 REFUSED_STREAM), `retriable-4xx` (409),
 * `retriable-status-codes` (the codes in `retriableStatusCodes`).
 */
export type RetryOn = (typeof RETRY_ON)[number];

export interface RetryPolicyConfig {
  /** At least one, no repeats. */
  readonly retryOn: readonly RetryOn[];
  /** 0..10; default 1. */
  readonly numRetries: number;
  /** Required with `retriable-status-codes`, refused without; 100..599. */
  readonly retriableStatusCodes: readonly number[];
  /** Exponential backoff with full jitter: default base 25 ms, max 10 × base; max ≥ base. */
  readonly backoff: { readonly baseMs: number; readonly maxMs: number };
}
