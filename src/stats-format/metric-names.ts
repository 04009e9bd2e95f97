/**
 * Stat name → Prometheus metric name and labels, after Envoy's tag extraction
 * (`cluster.app.upstream_rq_total` → `envoy_cluster_upstream_rq_total{envoy_cluster_name="app"}`),
 * with our own prefix: the scope's name becomes a label, so one metric family holds every
 * cluster (listener, connection manager) and a dashboard sums or splits them by label.
 *
 *   cluster.<name>.<rest>   proxyctl_cluster_<rest>{proxyctl_cluster_name="<name>"}
 *   listener.<name>.<rest>  proxyctl_listener_<rest>{proxyctl_listener_name="<name>"}
 *   http.<prefix>.<rest>    proxyctl_http_<rest>{proxyctl_http_conn_manager_prefix="<prefix>"}
 *   access_log.<listener>.<rest>  proxyctl_access_log_<rest>{proxyctl_listener_name="<listener>"}
 *   anything else           proxyctl_<name> (server.*, supervisor.*)
 *
 * The scopes and their tags are the statsd sink's too (src/stats/scope-names.ts). Characters
 * outside [a-zA-Z0-9_:] become `_`.
 */
import { SCOPE_TAGS, splitScope } from '../stats/scope-names.js';

export interface MetricName {
  /** The sanitized metric name, before any `_total` a counter gets. */
  readonly name: string;
  /** `key="value"` pairs, escaped, joined with commas; '' for none. */
  readonly labels: string;
  /** The stat name with the scope's name replaced by `<label>`: the family's help text. */
  readonly template: string;
}

const METRIC_PREFIX = 'proxyctl_';

export function metricName(stat: string): MetricName {
  const scoped = splitScope(stat);
  if (scoped === null) return { name: sanitize(METRIC_PREFIX + stat), labels: '', template: stat };
  const label = METRIC_PREFIX + SCOPE_TAGS[scoped.kind];
  return {
    name: sanitize(`${METRIC_PREFIX}${scoped.kind}_${scoped.rest}`),
    labels: `${label}="${escapeLabelValue(scoped.object)}"`,
    template: `${scoped.kind}.<${label}>.${scoped.rest}`,
  };
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
