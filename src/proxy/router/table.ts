/**
 * Compiles a listener's routing config into a `RouteTable`, once per snapshot: regexes
 * compiled, cluster names resolved, the decisions of cluster and direct-response routes built
 * and frozen. A `routes:` listener becomes one catch-all virtual host named after the listener,
 * so both forms route through the same code (and its fast path).
 */
import type { DirectResponse, HttpListenerConfig } from '../../config/types.js';
import type { VirtualHostConfig, VirtualHostRouteConfig } from '../../config/types-router.js';
import { indexVirtualHosts } from './domains.js';
import { compileHeader, compileQuery } from './matchers.js';
import { PathKind, type ClusterDecision, type CompiledAction, type CompiledRoute, type RouteInfo, type RouteResolvers, type RouteTable } from './types.js';

/**
 * @param resolvers turn cluster names (and direct responses) into what the caller holds.
 * @throws Error when a cluster name does not resolve: the config checks references, so that is a bug.
 */
export function buildRouteTable<C = string, D = DirectResponse>(listener: HttpListenerConfig, resolvers: RouteResolvers<C, D>): RouteTable<C, D> {
  const vhosts: readonly VirtualHostConfig[] = listener.virtualHosts ?? [{ name: listener.name, domains: ['*'], routes: listener.routes }];
  const compiled = vhosts.map((v) => {
    const routes = v.routes.map((r, i) => compileRoute(r, v.name, i, resolvers));
    // A prefix with a char above 0xFF has no latin1 byte image, so only the string compare is right for it.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: \x00-\xff is all of latin1; the test is for a char outside it
    const fast = routes.every((r) => r.pathKind === PathKind.Prefix && r.caseSensitive && r.methods === null && r.headers === null && r.query === null && !/[^\x00-\xff]/.test(r.value));
    return { domains: v.domains, compiled: Object.freeze({ name: v.name, routes: Object.freeze(routes), fast }) };
  });
  return Object.freeze({
    listenerName: listener.name,
    normalizePath: listener.normalizePath ?? true,
    escapedSlashes: listener.pathWithEscapedSlashes ?? 'keep',
    hosts: indexVirtualHosts(compiled),
  });
}

/** Resolvers for tests and tools: clusters by name (an unknown name throws), direct responses as configured. */
export function clustersByName(names: Iterable<string>): RouteResolvers<string, DirectResponse> {
  const known = new Set(names);
  return { resolveCluster: (name) => (known.has(name) ? name : undefined) };
}

function compileRoute<C, D>(r: VirtualHostRouteConfig, vhost: string, index: number, resolvers: RouteResolvers<C, D>): CompiledRoute<C, D> {
  const m = r.match;
  const pathKind = 'prefix' in m ? PathKind.Prefix : 'path' in m ? PathKind.Exact : PathKind.Regex;
  const raw = 'prefix' in m ? m.prefix : 'path' in m ? m.path : '';
  const value = m.caseSensitive ? raw : raw.toLowerCase();
  const prefixRewrite = pathKind === PathKind.Prefix ? r.prefixRewrite : null;
  const regexRewrite = r.regexRewrite === null ? null : Object.freeze({ pattern: new RegExp(r.regexRewrite.pattern, 'g'), substitution: r.regexRewrite.substitution });
  const info: RouteInfo = Object.freeze({
    name: r.name ?? `${vhost}/${index}`,
    virtualHost: vhost,
    rewrites: prefixRewrite !== null || regexRewrite !== null || r.hostRewrite !== null,
    prefixRewrite,
    prefixLength: raw.length,
    regexRewrite,
    hostRewrite: r.hostRewrite,
    timeoutMs: r.timeoutMs,
    perTryTimeoutMs: r.perTryTimeoutMs,
    retryPolicy: r.retryPolicy,
  });
  return Object.freeze({
    pathKind,
    value,
    bytes: Buffer.from(value, 'latin1'),
    caseSensitive: m.caseSensitive,
    regex: 'regex' in m ? new RegExp(m.regex) : null,
    methods: m.methods.length === 0 ? null : Object.freeze([...m.methods]),
    headers: m.headers.length === 0 ? null : Object.freeze(m.headers.map(compileHeader)),
    query: m.queryParameters.length === 0 ? null : Object.freeze(m.queryParameters.map(compileQuery)),
    action: compileAction(r, info, resolvers),
    info,
  });
}

function compileAction<C, D>(r: VirtualHostRouteConfig, route: RouteInfo, resolvers: RouteResolvers<C, D>): CompiledAction<C, D> {
  const cluster = (name: string): ClusterDecision<C> => {
    const c = resolvers.resolveCluster(name);
    if (c === undefined) throw new Error(`route ${route.name} refers to unknown cluster ${name}`);
    return Object.freeze({ kind: 'cluster', route, clusterName: name, cluster: c });
  };
  if ('cluster' in r) return { kind: 'fixed', decision: cluster(r.cluster) };
  if ('weightedClusters' in r) {
    let total = 0;
    const cumulative = r.weightedClusters.map((w) => (total += w.weight));
    return Object.freeze({ kind: 'weighted', total, cumulative: Object.freeze(cumulative), decisions: Object.freeze(r.weightedClusters.map((w) => cluster(w.name))) });
  }
  if ('directResponse' in r) {
    const d = r.directResponse;
    const response = resolvers.prepareDirect === undefined ? (d as D) : resolvers.prepareDirect(d);
    return { kind: 'fixed', decision: Object.freeze({ kind: 'direct', route, status: d.status, response }) };
  }
  return { kind: 'redirect', redirect: r.redirect };
}
