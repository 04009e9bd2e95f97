/** Human output of `proxyctl status --clusters`: one table per cluster, a row per host. */
import type { ClusterView, HostView } from '../clusters/types.js';
import { localityText } from '../clusters/locality-text.js';
import { PLAIN, healthTone, type Paint } from './paint.js';

const HEADERS = ['ADDRESS', 'WEIGHT', 'HEALTH', 'FLAGS', 'ACTIVE', 'OUTLIER', 'LOCALITY'] as const;

/** `null`: no epoch serves, or it did not answer in time (or predates the question). */
export function formatClusters(views: readonly ClusterView[] | null, paint: Paint = PLAIN): string[] {
  if (views === null) return ['clusters: unknown (no epoch serves, or it did not answer in time)'];
  if (views.length === 0) return ['clusters: none'];
  const lines: string[] = [];
  for (const c of views) {
    if (lines.length > 0) lines.push('');
    lines.push(`cluster ${c.name}: discovery ${c.discovery}, lb ${c.lb}, ${c.healthy} healthy, ${c.degraded} degraded, ${c.hosts.length} total${c.panic ? ', PANIC' : ''}`);
    lines.push(...table(c.hosts.map(hostCells), paint));
  }
  return lines;
}

function hostCells(h: HostView): string[] {
  return [h.address, String(h.weight), h.health ?? '-', h.flags.length === 0 ? '-' : h.flags.join(','), String(h.activeRequests), outlierText(h), localityText(h.locality)];
}

const HEALTH_COLUMN = HEADERS.indexOf('HEALTH');

/** Columns as wide as their widest cell, two spaces apart; the header bold, the health by its tone. */
function table(rows: readonly string[][], paint: Paint): string[] {
  const all = [[...HEADERS], ...rows];
  const widths = HEADERS.map((_, i) => Math.max(...all.map((r) => r[i]!.length)) + 2);
  const line = (r: readonly string[], colour: boolean): string =>
    r.map((cell, i) => (colour && i === HEALTH_COLUMN ? paint.tone(healthTone(cell), cell) + ' '.repeat(widths[i]! - cell.length) : cell.padEnd(widths[i]!))).join('').trimEnd();
  return [paint.header(line(HEADERS, false)), ...rows.map((r) => line(r, paint !== PLAIN))];
}

/** `ejected until 14:03:07 (2×)` in the local time of whoever reads it, or `-`. */
function outlierText(h: HostView): string {
  if (h.outlier === null || !h.outlier.ejected) return '-';
  return `ejected until ${new Date(h.outlier.ejectedUntil).toTimeString().slice(0, 8)} (${h.outlier.ejections}×)`;
}
