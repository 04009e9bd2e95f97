/**
 * Stat name → Prometheus metric name and labels, after Envoy's tag extraction
 * (`cluster.app.upstream_rq_total` → `envoy_cluster_upstream_rq_total{envoy_cluster_name="app"}`),
 * with our own prefix: the scope's name becomes a label, so one metric family holds every
 * cluster (listener, connection manager) and a dashboard sums or splits them by label.
 *
 *   cluster.<name>.<rest>   proxyctl_cluster_<rest>{proxyctl_cluster_name="<name>"}
 *   listener.<name>.<rest>  proxyctl_listener_<rest>{proxyctl_listener_name="<name>"}
 *   http.<prefix>.<rest>    proxyctl_http_<rest>{proxyctl_http_conn_manager_prefix="<prefix>"}
 *   anything else           proxyctl_<name> (server.*, supervisor.*)
 *
 * Scope names match the config's NAME_PATTERN (no dots), so the segment after the scope is the
 * whole name. Other characters outside [a-zA-Z0-9_:] become `_`.
 */

export interface MetricName {
  /** The sanitized metric name, before any `_total` a counter gets. */
  readonly name: string;
  /** `key="value"` pairs, escaped, joined with commas; '' for none. */
  readonly labels: string;
  /** The stat name with the scope's name replaced by `<label>`: the family's help text. */
  readonly template: string;
}

const SCOPES: ReadonlyMap<string, string> = new Map([
  ['cluster', 'proxyctl_cluster_name'],
  ['listener', 'proxyctl_listener_name'],
  ['http', 'proxyctl_http_conn_manager_prefix'],
]);

const METRIC_PREFIX = 'proxyctl_';

export function metricName(stat: string): MetricName {
  const first = stat.indexOf('.');
  const second = first < 0 ? -1 : stat.indexOf('.', first + 1);
  const label = first < 0 ? undefined : SCOPES.get(stat.slice(0, first));
  if (label !== undefined && second > first + 1 && second < stat.length - 1) {
    const scope = stat.slice(0, first);
    const value = stat.slice(first + 1, second);
    const rest = stat.slice(second + 1);
    return { name: sanitize(`${METRIC_PREFIX}${scope}_${rest}`), labels: `${label}="${escapeLabelValue(value)}"`, template: `${scope}.<${label}>.${rest}` };
  }
  return { name: sanitize(METRIC_PREFIX + stat), labels: '', template: stat };
}

/** A legal metric name: [a-zA-Z_:][a-zA-Z0-9_:]*; our prefix makes the first character legal. */
function sanitize(name: string): string {
  return name.replace(/[^a-zA-Z0-9_:]/g, '_');
}

/** Label values escape backslash, double quote and newline (both text formats agree). */
function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** HELP text escapes backslash and newline. */
export function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}
