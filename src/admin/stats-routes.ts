/**
 * `/stats` and `/stats/prometheus`. `/stats` gives the `name: value` text of `proxyctl stats`;
 * `?format=json` its JSON, `?format=prometheus` the Prometheus text. `?filter=REGEX` keeps the
 * stats whose name matches, `?usedonly` the ones something wrote (usedOnly in stats-format).
 * `/stats/prometheus` answers OpenMetrics 1.0 when the scraper's Accept asks for it.
 */
import { readSnapshot, snapshotToJson, type StatsSnapshot } from '../shm/index.js';
import { CONTENT_TYPES, formatExposition, negotiateFormat, type ExpositionFormat } from '../stats-format/prometheus.js';
import { formatSnapshot, usedOnly } from '../stats-format/text.js';
import { filterParam, send, sendJson, TEXT } from './respond.js';
import type { AdminRequest, AdminRoute } from './types.js';

function snapshotFor({ facts, query, res }: AdminRequest): StatsSnapshot | null {
  const filter = filterParam(query, res);
  if (filter === null) return null;
  const snapshot = readSnapshot(facts.stats, filter);
  return query.has('usedonly') ? usedOnly(snapshot) : snapshot;
}

function exposition(r: AdminRequest, format: ExpositionFormat): void {
  const snapshot = snapshotFor(r);
  if (snapshot !== null) send(r.res, 200, CONTENT_TYPES[format], formatExposition(snapshot, format));
}

function stats(r: AdminRequest): void {
  const format = r.query.get('format');
  if (format === 'prometheus') {
    exposition(r, 'prometheus');
    return;
  }
  if (format !== null && format !== 'json' && format !== 'text') {
    send(r.res, 400, TEXT, 'format must be text, json or prometheus\n');
    return;
  }
  const snapshot = snapshotFor(r);
  if (snapshot === null) return;
  if (format === 'json') sendJson(r.res, 200, snapshotToJson(snapshot));
  else {
    const text = formatSnapshot(snapshot);
    send(r.res, 200, TEXT, text === '' ? '' : `${text}\n`);
  }
}

export const STATS_ROUTES: readonly AdminRoute[] = [
  { path: '/stats', method: 'GET', help: 'every stat, `name: value`; ?format=json|prometheus, ?filter=REGEX, ?usedonly', handle: stats },
  {
    path: '/stats/prometheus',
    method: 'GET',
    help: 'the stats for a Prometheus scrape (OpenMetrics 1.0 when Accept asks for it); ?filter=REGEX, ?usedonly',
    handle: (r) => exposition(r, negotiateFormat(r.req.headers.accept)),
  },
];
