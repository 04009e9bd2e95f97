/**
 * Per-object stat scopes by name: `<kind>.<object>.<rest>`, where the kind says what names the
 * object. Listener stats (`listener.`), their HTTP connection manager's (`http.`) and access
 * logs' (`access_log.`) are named by listener, cluster stats (`cluster.`) by cluster. Object
 * names allow no dot (NAME_PATTERN), so the second part is the whole object name. Used to free
 * the scopes of removed objects, and to turn object names into statsd tags and Prometheus
 * labels (both named after Envoy's tags).
 */

export const LISTENER_SCOPE_KINDS = ['listener', 'http', 'access_log'] as const;
export const CLUSTER_SCOPE_KIND = 'cluster';
export type ScopeKind = (typeof LISTENER_SCOPE_KINDS)[number] | typeof CLUSTER_SCOPE_KIND;

const KINDS: ReadonlySet<string> = new Set<string>([...LISTENER_SCOPE_KINDS, CLUSTER_SCOPE_KIND]);

/** The tag that names each kind's object, as Envoy's tag extraction calls it. */
export const SCOPE_TAGS: Readonly<Record<ScopeKind, string>> = { listener: 'listener_name', http: 'http_conn_manager_prefix', access_log: 'listener_name', cluster: 'cluster_name' };

export interface ScopedName {
  kind: ScopeKind;
  object: string;
  /** What follows `<kind>.<object>.`. */
  rest: string;
}

/** `cluster.app.upstream_rq_total` → {cluster, app, upstream_rq_total}; null for a stat of no object. */
export function splitScope(name: string): ScopedName | null {
  const first = name.indexOf('.');
  if (first < 0 || !KINDS.has(name.slice(0, first))) return null;
  const second = name.indexOf('.', first + 1);
  // Both the object's name and the rest must be there: `cluster.app` names no stat of app.
  if (second <= first + 1 || second === name.length - 1) return null;
  return { kind: name.slice(0, first) as ScopeKind, object: name.slice(first + 1, second), rest: name.slice(second + 1) };
}

/** The scope prefix `name` is in (`cluster.app.`), or null. */
export function scopeOf(name: string): string | null {
  const s = splitScope(name);
  return s === null ? null : `${s.kind}.${s.object}.`;
}
