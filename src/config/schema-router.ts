import * as z from 'zod';
import { name, duration } from './schema-scalars.js';
import { regexProblem } from './regex.js';
import { RETRY_ON } from './types-router.js';
import type {
  HeaderMatcherConfig,
  HttpRoutingKeys,
  QueryParameterMatcherConfig,
  RedirectCode,
  RouteMatchConfig,
  RouteOptions,
  VirtualHostConfig,
  VirtualHostRouteConfig,
} from './types-router.js';

/**
 * The file's shape for the `virtualHosts:` form of routing (see types-router.ts). Field by
 * field only: "exactly one of", references and duplicate domains are checked in
 * cross-checks-router.ts so that they come out in the same pass as everything else.
 */

const regex = z.string({ error: 'must be a regular expression as a string' }).transform((src, ctx) => {
  const problem = regexProblem(src);
  if (problem === null) return src;
  ctx.issues.push({ code: 'custom', message: problem, input: src });
  return z.NEVER;
});

const absPath = z.string({ error: 'must be a string' }).refine((p) => p.startsWith('/'), { error: 'must start with "/"' });
/**
 * A path to match: the request path is normalized and ASCII (other bytes arrive
 * percent-encoded), so a space, a `#` or a non-ASCII character could never match.
 */
const matchPath = absPath.refine((p) => !p.startsWith('/') || /^[\x21-\x22\x24-\x7e]*$/.test(p), { error: 'must be printable ASCII without spaces or "#" (write other characters percent-encoded, as a client sends them)' });

/** `a.example.com`, `a.example.com:8080`, `[::1]:8080`, `*.example.com`, `*-x.example.com`, `api.*`, `*`. */
const DOMAIN = /^(?:\*|\*[A-Za-z0-9_.-]+|[A-Za-z0-9_.-]+\*|(?:[A-Za-z0-9_.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?)$/;
const domain = z.string({ error: 'must be a string' }).regex(DOMAIN, {
  error: 'must be a host name, host:port, "*.suffix", "prefix.*" or "*" (a "*" only at one end, and only exact domains name a port)',
});

const headerName = z.string({ error: 'must be a string' }).regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, { error: 'must be a header field name (a token)' });
const METHOD = /^[A-Z][A-Z_-]*$/;
const method = z.string({ error: 'must be a string' }).regex(METHOD, { error: 'must be an HTTP method in upper case (methods are case-sensitive)' });

const headerMatcher = z.strictObject({
  name: headerName,
  exact: z.string().optional(),
  prefix: z.string().optional(),
  suffix: z.string().optional(),
  regex: regex.optional(),
  present: z.literal(true, { error: 'must be true (use invert: true for "absent")' }).optional(),
  invert: z.boolean({ error: 'must be true or false' }).default(false),
});

const queryMatcher = z.strictObject({
  name: z.string({ error: 'must be a string' }).min(1, { error: 'must not be empty' }),
  exact: z.string().optional(),
  regex: regex.optional(),
  present: z.literal(true, { error: 'must be true' }).optional(),
});

const match = z.strictObject({
  prefix: matchPath.optional(),
  path: matchPath.optional(),
  regex: regex.optional(),
  caseSensitive: z.boolean({ error: 'must be true or false' }).default(true),
  headers: z.array(headerMatcher).default([]),
  queryParameters: z.array(queryMatcher).default([]),
  methods: z.array(method).default([]),
});

const directResponse = z.strictObject({
  status: z.int().min(200, { error: 'must be 200..599' }).max(599, { error: 'must be 200..599' }),
  body: z.string({ error: 'must be a string (quote it if it looks like a number)' }).default(''),
});

const REDIRECT_CODES = [301, 302, 303, 307, 308] as const;
const redirect = z.strictObject({
  schemeRedirect: z.enum(['http', 'https'], { error: 'must be "http" or "https"' }).optional(),
  hostRedirect: z
    .string({ error: 'must be a string' })
    .regex(/^(?:[A-Za-z0-9_.-]+|\[[0-9A-Fa-f:.]+\])$/, { error: 'must be a host name or IP literal, without a port (use portRedirect)' })
    .optional(),
  portRedirect: z.int({ error: 'must be a whole number' }).min(1, { error: 'must be 1..65535' }).max(65535, { error: 'must be 1..65535' }).optional(),
  pathRedirect: absPath.optional(),
  prefixRewrite: absPath.optional(),
  stripQuery: z.boolean({ error: 'must be true or false' }).default(false),
  responseCode: z
    .int({ error: 'must be 301, 302, 303, 307 or 308' })
    .refine((c) => (REDIRECT_CODES as readonly number[]).includes(c), { error: 'must be 301, 302, 303, 307 or 308' })
    .default(301),
});

const weightedCluster = z.strictObject({
  name,
  weight: z.int({ error: 'must be a positive whole number' }).min(1, { error: 'must be a positive whole number' }).max(1_000_000, { error: 'must be at most 1000000' }),
});

const retryPolicy = z.strictObject({
  retryOn: z
    .array(z.enum(RETRY_ON, { error: `must be one of ${RETRY_ON.join(', ')}` }))
    .min(1, { error: 'name at least one condition' })
    .refine((l) => new Set(l).size === l.length, { error: 'a condition is listed twice' }),
  numRetries: z.int({ error: 'must be a whole number' }).min(0, { error: 'must be 0..10' }).max(10, { error: 'must be 0..10' }).default(1),
  retriableStatusCodes: z.array(z.int().min(100, { error: 'must be 100..599' }).max(599, { error: 'must be 100..599' })).default([]),
  backoff: z.strictObject({ base: duration.optional(), max: duration.optional() }).optional(),
  // Where Envoy puts it (per_try_timeout); the same as the route's perTryTimeout, which cross-checks refuse beside it.
  perTryTimeout: duration.optional(),
});

/** One route, in `virtualHosts[].routes` and in a listener's `routes:` shorthand alike. */
export const routeSchema = z.strictObject({
  name: name.optional(),
  match,
  cluster: name.optional(),
  weightedClusters: z.array(weightedCluster).min(1, { error: 'name at least one cluster' }).optional(),
  directResponse: directResponse.optional(),
  redirect: redirect.optional(),
  prefixRewrite: z.string({ error: 'must be a string' }).optional(),
  regexRewrite: z.strictObject({ pattern: regex, substitution: z.string({ error: 'must be a string' }) }).optional(),
  hostRewrite: z.string({ error: 'must be a string' }).regex(/^[^\s/?#@]+$/, { error: 'must be a host or host:port' }).optional(),
  timeout: duration.optional(),
  perTryTimeout: duration.optional(),
  retryPolicy: retryPolicy.optional(),
}).meta({ id: 'route', description: 'A match and exactly one action: cluster, weightedClusters, directResponse or redirect.' });

const virtualHost = z.strictObject({
  name,
  domains: z.array(domain).min(1, { error: 'a virtual host needs at least one domain' }),
  routes: z.array(routeSchema).min(1, { error: 'a virtual host needs at least one route' }),
}).meta({ id: 'virtualHost', description: 'The routes for the requests whose host is one of its domains.' });

/** Spread into the listener's strict object in schema.ts. */
export const routingListenerKeys = {
  virtualHosts: z.array(virtualHost).min(1, { error: 'at least one virtual host is required' }).optional(),
  pathWithEscapedSlashes: z.enum(['keep', 'reject', 'unescape'], { error: 'must be "keep", "reject" or "unescape"' }).optional(),
  normalizePath: z.boolean({ error: 'must be true or false' }).optional(),
};

type FileRoutingKeys = { [K in keyof typeof routingListenerKeys]?: z.output<(typeof routingListenerKeys)[K]> };
type FileRoute = z.output<typeof routeSchema>;

/** The routing keys of a listener, normalized; absent keys stay absent (so `routes:` listeners look as before). */
export function normalizeRoutingKeys(l: FileRoutingKeys): HttpRoutingKeys {
  const out: { -readonly [K in keyof HttpRoutingKeys]: HttpRoutingKeys[K] } = {};
  if (l.virtualHosts !== undefined) out.virtualHosts = l.virtualHosts.map(normalizeVirtualHost);
  if (l.pathWithEscapedSlashes !== undefined) out.pathWithEscapedSlashes = l.pathWithEscapedSlashes;
  if (l.normalizePath !== undefined) out.normalizePath = l.normalizePath;
  return out;
}

function normalizeVirtualHost(v: z.output<typeof virtualHost>): VirtualHostConfig {
  return { name: v.name, domains: v.domains.map((d) => d.toLowerCase()), routes: v.routes.map(normalizeRoute) };
}

// The cross-checks guarantee "exactly one" before normalize runs; the throws mark a bug.
export function normalizeRoute(r: FileRoute): VirtualHostRouteConfig {
  const base: RouteOptions = {
    name: r.name ?? null,
    match: normalizeMatch(r.match),
    prefixRewrite: r.prefixRewrite ?? null,
    regexRewrite: r.regexRewrite === undefined ? null : { pattern: r.regexRewrite.pattern, substitution: r.regexRewrite.substitution },
    hostRewrite: r.hostRewrite ?? null,
    timeoutMs: r.timeout ?? null,
    perTryTimeoutMs: r.perTryTimeout ?? r.retryPolicy?.perTryTimeout ?? null,
    retryPolicy: r.retryPolicy === undefined ? null : normalizeRetry(r.retryPolicy),
  };
  if (r.cluster !== undefined) return { ...base, cluster: r.cluster };
  if (r.weightedClusters !== undefined) return { ...base, weightedClusters: r.weightedClusters.map((w) => ({ name: w.name, weight: w.weight })) };
  if (r.directResponse !== undefined) return { ...base, directResponse: { status: r.directResponse.status, body: r.directResponse.body } };
  if (r.redirect !== undefined) {
    const d = r.redirect;
    return {
      ...base,
      redirect: {
        schemeRedirect: d.schemeRedirect ?? null,
        hostRedirect: d.hostRedirect?.toLowerCase() ?? null,
        portRedirect: d.portRedirect ?? null,
        pathRedirect: d.pathRedirect ?? null,
        prefixRewrite: d.prefixRewrite ?? null,
        stripQuery: d.stripQuery,
        responseCode: d.responseCode as RedirectCode,
      },
    };
  }
  throw new Error('unreachable: cross-checks require exactly one route action');
}

function normalizeMatch(m: z.output<typeof match>): RouteMatchConfig {
  const extras = {
    caseSensitive: m.caseSensitive,
    headers: m.headers.map(normalizeHeader),
    queryParameters: m.queryParameters.map(normalizeQuery),
    methods: [...m.methods],
  };
  if (m.prefix !== undefined) return { prefix: m.prefix, ...extras };
  if (m.path !== undefined) return { path: m.path, ...extras };
  if (m.regex !== undefined) return { regex: m.regex, ...extras };
  throw new Error('unreachable: cross-checks require exactly one of prefix, path, regex');
}

function normalizeHeader(h: z.output<typeof headerMatcher>): HeaderMatcherConfig {
  const base = { name: h.name.toLowerCase(), invert: h.invert };
  if (h.exact !== undefined) return { ...base, exact: h.exact };
  if (h.prefix !== undefined) return { ...base, prefix: h.prefix };
  if (h.suffix !== undefined) return { ...base, suffix: h.suffix };
  if (h.regex !== undefined) return { ...base, regex: h.regex };
  if (h.present !== undefined) return { ...base, present: true };
  throw new Error('unreachable: cross-checks require exactly one header test');
}

function normalizeQuery(q: z.output<typeof queryMatcher>): QueryParameterMatcherConfig {
  if (q.exact !== undefined) return { name: q.name, exact: q.exact };
  if (q.regex !== undefined) return { name: q.name, regex: q.regex };
  if (q.present !== undefined) return { name: q.name, present: true };
  throw new Error('unreachable: cross-checks require exactly one query parameter test');
}

const DEFAULT_BACKOFF_BASE_MS = 25;

function normalizeRetry(p: z.output<typeof retryPolicy>): NonNullable<RouteOptions['retryPolicy']> {
  const baseMs = p.backoff?.base ?? DEFAULT_BACKOFF_BASE_MS;
  return {
    retryOn: [...p.retryOn],
    numRetries: p.numRetries,
    retriableStatusCodes: [...p.retriableStatusCodes],
    backoff: { baseMs, maxMs: p.backoff?.max ?? baseMs * 10 },
  };
}
