/**
 * The text of admin `GET /clusters`, after Envoy's: one fact a line, `cluster::fact::value`
 * for the cluster, then `cluster::host:port::fact::value` for each host, so `grep` and
 * `awk -F::` pick out what they need. An IPv6 host keeps its brackets (`[::1]:9001`), so a
 * reader splits on `::` outside them, as with Envoy.
 */
import type { ClusterView, HostView } from '../clusters/types.js';
import { localityText } from '../clusters/locality-text.js';

export function clustersText(views: readonly ClusterView[]): string {
  const lines: string[] = [];
  for (const c of views) {
    lines.push(`${c.name}::discovery::${c.discovery}`, `${c.name}::lb::${c.lb}`, `${c.name}::panic::${c.panic}`);
    for (const h of c.hosts) hostLines(lines, `${c.name}::${h.address}::`, h);
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

function hostLines(lines: string[], prefix: string, h: HostView): void {
  lines.push(
    `${prefix}weight::${h.weight}`,
    // Envoy's spelling: `healthy`, or each flag behind a slash.
    `${prefix}health_flags::${h.flags.length === 0 ? 'healthy' : h.flags.map((f) => `/${f}`).join('')}`,
    `${prefix}rq_active::${h.activeRequests}`,
    `${prefix}outlier::ejected_until::${h.outlier?.ejected ? new Date(h.outlier.ejectedUntil).toISOString() : '-'}`,
  );
  if (h.outlier !== null) lines.push(`${prefix}outlier::ejections::${h.outlier.ejections}`);
  lines.push(`${prefix}locality::${localityText(h.locality)}`);
}
