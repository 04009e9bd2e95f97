import { parseDuration } from './duration.js';
import type { IssuePath, PathIssue } from './issue.js';

/**
 * Checks of the `virtualHosts:` form that span fields: one form per http listener, unique
 * virtual host and route names, no domain claimed twice, exactly one action per route and one
 * test per matcher, options that only make sense with some actions, and cluster references.
 * Like cross-checks.ts they read the raw document and skip what they cannot read (the schema
 * reports that), so all errors come out in one pass.
 */
export function crossCheckRouting(listeners: unknown[], clusters: unknown[] | null, issues: PathIssue[]): void {
  const defined = clusters === null ? null : new Set(clusters.filter(isRecord).map((c) => c.name));
  listeners.forEach((l, i) => {
    if (!isRecord(l)) return;
    routing(l, l.protocol, ['listeners', i], defined, issues);
    if (!Array.isArray(l.filterChains)) return;
    l.filterChains.forEach((c, j) => {
      if (isRecord(c)) routing(c, l.protocol, ['listeners', i, 'filterChains', j], defined, issues);
    });
  });
}

/** The routing keys of `s`, a listener or one of its filter chains (which routes the same way). */
function routing(s: Record<string, unknown>, protocol: unknown, at: IssuePath, defined: Set<unknown> | null, issues: PathIssue[]): void {
  const what = at.length > 2 ? 'filter chain' : 'listener';
  if (protocol === 'tcp') {
    for (const key of ['virtualHosts', 'pathWithEscapedSlashes', 'normalizePath']) {
      if (s[key] !== undefined) issues.push({ path: [...at, key], message: `a tcp ${what} has no ${key} (it is for http)`, at: 'key' });
    }
    return;
  }
  if (protocol !== 'http') return;
  if (s.routes !== undefined && s.virtualHosts !== undefined) {
    issues.push({ path: [...at, 'virtualHosts'], message: `an http ${what} has either "routes" or "virtualHosts", not both`, at: 'key' });
  }
  if (s.normalizePath === false && s.pathWithEscapedSlashes !== undefined) {
    issues.push({ path: [...at, 'pathWithEscapedSlashes'], message: 'pathWithEscapedSlashes is part of path normalization, which normalizePath: false turns off', at: 'key' });
  }
  if (Array.isArray(s.virtualHosts)) virtualHosts(s.virtualHosts, [...at, 'virtualHosts'], defined, issues);
  if (Array.isArray(s.routes)) routes(s.routes, [...at, 'routes'], defined, issues);
}

function virtualHosts(vhosts: unknown[], at: IssuePath, defined: Set<unknown> | null, issues: PathIssue[]): void {
  const names = new Map<string, number>();
  const domains = new Map<string, string>();
  vhosts.forEach((v, j) => {
    if (!isRecord(v)) return;
    const vat = [...at, j];
    if (typeof v.name === 'string') {
      const seen = names.get(v.name);
      if (seen !== undefined) issues.push({ path: [...vat, 'name'], message: `duplicate virtual host name "${v.name}" (first used by virtualHosts[${seen}])`, at: 'value' });
      else names.set(v.name, j);
    }
    if (Array.isArray(v.domains)) {
      v.domains.forEach((d, k) => {
        if (typeof d !== 'string') return;
        const key = d.toLowerCase();
        const owner = domains.get(key);
        if (owner !== undefined) issues.push({ path: [...vat, 'domains', k], message: `domain "${d}" is already claimed by ${owner}`, at: 'value' });
        else domains.set(key, `virtualHosts[${j}]`);
      });
    }
    if (Array.isArray(v.routes)) routes(v.routes, [...vat, 'routes'], defined, issues);
  });
}

const ACTIONS = ['cluster', 'weightedClusters', 'directResponse', 'redirect'] as const;
const UPSTREAM_ONLY = ['prefixRewrite', 'regexRewrite', 'hostRewrite', 'timeout', 'perTryTimeout', 'retryPolicy'] as const;

function routes(list: unknown[], at: IssuePath, defined: Set<unknown> | null, issues: PathIssue[]): void {
  const names = new Map<string, number>();
  list.forEach((r, k) => {
    if (!isRecord(r)) return;
    const rat = [...at, k];
    if (typeof r.name === 'string') {
      const seen = names.get(r.name);
      if (seen !== undefined) issues.push({ path: [...rat, 'name'], message: `duplicate route name "${r.name}" (first used by routes[${seen}])`, at: 'value' });
      else names.set(r.name, k);
    }
    const actions = ACTIONS.filter((a) => r[a] !== undefined);
    if (actions.length !== 1) {
      issues.push({ path: rat, message: `a route needs exactly one of "cluster", "weightedClusters", "directResponse" or "redirect"${actions.length > 1 ? ` (it has ${actions.join(' and ')})` : ''}`, at: 'value' });
    }
    const toUpstream = r.cluster !== undefined || r.weightedClusters !== undefined;
    if (actions.length === 1 && !toUpstream) {
      for (const key of UPSTREAM_ONLY) {
        if (r[key] !== undefined) issues.push({ path: [...rat, key], message: `${key} applies only to routes that go to a cluster (cluster or weightedClusters)`, at: 'key' });
      }
    }
    const hasPrefix = isRecord(r.match) && r.match.prefix !== undefined;
    if (isRecord(r.match)) match(r.match, [...rat, 'match'], issues);
    if (r.prefixRewrite !== undefined && !hasPrefix && toUpstream) issues.push({ path: [...rat, 'prefixRewrite'], message: 'prefixRewrite needs match.prefix (use regexRewrite otherwise)', at: 'key' });
    if (r.prefixRewrite !== undefined && r.regexRewrite !== undefined) issues.push({ path: [...rat, 'regexRewrite'], message: 'use prefixRewrite or regexRewrite, not both', at: 'key' });
    if (isRecord(r.redirect)) redirect(r.redirect, [...rat, 'redirect'], hasPrefix, issues);
    if (isRecord(r.retryPolicy)) {
      retryPolicy(r.retryPolicy, [...rat, 'retryPolicy'], issues);
      if (r.perTryTimeout !== undefined && r.retryPolicy.perTryTimeout !== undefined) issues.push({ path: [...rat, 'retryPolicy', 'perTryTimeout'], message: 'perTryTimeout is also set at the route: keep one', at: 'key' });
    }
    if (defined !== null) references(r, rat, defined, issues);
  });
}

function match(m: Record<string, unknown>, at: IssuePath, issues: PathIssue[]): void {
  const kinds = ['prefix', 'path', 'regex'].filter((key) => m[key] !== undefined);
  if (kinds.length !== 1) issues.push({ path: at, message: 'a match needs exactly one of "prefix", "path" or "regex"', at: 'value' });
  if (m.regex !== undefined && m.caseSensitive !== undefined) {
    issues.push({ path: [...at, 'caseSensitive'], message: 'caseSensitive applies to prefix and path; a regex has no flags (write [Aa] for either case)', at: 'key' });
  }
  const oneTest = (list: unknown, key: string, tests: readonly string[]): void => {
    if (!Array.isArray(list)) return;
    list.forEach((h, n) => {
      if (isRecord(h) && tests.filter((t) => h[t] !== undefined).length !== 1) {
        issues.push({ path: [...at, key, n], message: `needs exactly one of ${tests.map((t) => `"${t}"`).join(', ')}`, at: 'value' });
      }
    });
  };
  oneTest(m.headers, 'headers', ['exact', 'prefix', 'suffix', 'regex', 'present']);
  oneTest(m.queryParameters, 'queryParameters', ['exact', 'regex', 'present']);
}

function redirect(d: Record<string, unknown>, at: IssuePath, hasPrefix: boolean, issues: PathIssue[]): void {
  if (d.pathRedirect !== undefined && d.prefixRewrite !== undefined) issues.push({ path: [...at, 'prefixRewrite'], message: 'use pathRedirect or prefixRewrite, not both', at: 'key' });
  else if (d.prefixRewrite !== undefined && !hasPrefix) issues.push({ path: [...at, 'prefixRewrite'], message: 'prefixRewrite needs match.prefix', at: 'key' });
}

function retryPolicy(p: Record<string, unknown>, at: IssuePath, issues: PathIssue[]): void {
  const wantsCodes = Array.isArray(p.retryOn) && p.retryOn.includes('retriable-status-codes');
  const hasCodes = Array.isArray(p.retriableStatusCodes) && p.retriableStatusCodes.length > 0;
  if (wantsCodes && !hasCodes) issues.push({ path: [...at, 'retriableStatusCodes'], message: 'retryOn has "retriable-status-codes": list the codes in retriableStatusCodes', at: 'value' });
  if (!wantsCodes && p.retriableStatusCodes !== undefined) issues.push({ path: [...at, 'retriableStatusCodes'], message: 'retriableStatusCodes needs "retriable-status-codes" in retryOn', at: 'key' });
  if (!isRecord(p.backoff) || typeof p.backoff.base !== 'string' || typeof p.backoff.max !== 'string') return;
  const base = parseDuration(p.backoff.base);
  const max = parseDuration(p.backoff.max);
  if (base.ok && max.ok && max.ms < base.ms) issues.push({ path: [...at, 'backoff', 'max'], message: 'backoff.max must not be less than backoff.base', at: 'value' });
}

function references(r: Record<string, unknown>, at: IssuePath, defined: Set<unknown>, issues: PathIssue[]): void {
  const check = (ref: unknown, path: IssuePath): void => {
    // A malformed name is already reported by the schema; one message per mistake is enough.
    if (typeof ref === 'string' && /^[A-Za-z0-9_-]+$/.test(ref) && !defined.has(ref)) {
      issues.push({ path, message: `no cluster named "${ref}" is defined in clusters`, at: 'value' });
    }
  };
  check(r.cluster, [...at, 'cluster']);
  if (!Array.isArray(r.weightedClusters)) return;
  const seen = new Set<unknown>();
  r.weightedClusters.forEach((w, n) => {
    if (!isRecord(w)) return;
    check(w.name, [...at, 'weightedClusters', n, 'name']);
    if (seen.has(w.name)) issues.push({ path: [...at, 'weightedClusters', n, 'name'], message: `cluster "${String(w.name)}" is listed twice`, at: 'value' });
    seen.add(w.name);
  });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
