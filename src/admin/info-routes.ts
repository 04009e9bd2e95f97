/**
 * The read-only facts about this proxyctl: `/server_info`, `/clusters`, `/listeners`,
 * `/config_dump` and `/hot_restart_version`.
 */
import { readFileSync } from 'node:fs';
import { formatAddress } from '../config/address.js';
import { PROTOCOL_VERSION, STATS_LAYOUT_VERSION, HOT_RESTART_COMPATIBILITY } from '../uds-rpc/index.js';
import { clustersText } from './clusters-text.js';
import { redactConfig } from './config-dump.js';
import { send, sendJson, TEXT } from './respond.js';
import type { AdminRequest, AdminRoute } from './types.js';

/** package.json's version, read once (dist/src/admin/ → the package root). */
const VERSION = ((): string => {
  try {
    const pkg: unknown = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'));
    const version = typeof pkg === 'object' && pkg !== null ? (pkg as Record<string, unknown>).version : undefined;
    return typeof version === 'string' ? version : 'unknown';
  } catch {
    return 'unknown';
  }
})();

function serverInfo({ facts, res }: AdminRequest): void {
  sendJson(res, 200, {
    version: VERSION,
    epoch: facts.epoch,
    pid: process.pid,
    state: facts.draining() ? 'draining' : 'active',
    uptimeMs: Date.now() - facts.startedAt,
    workers: facts.workers,
    configHash: facts.configHash,
    hotRestartCompatibility: HOT_RESTART_COMPATIBILITY,
    healthCheckFailed: facts.host.healthFailed(),
  });
}

function clusters({ facts, query, res }: AdminRequest): void {
  const views = facts.clusters.views();
  if (query.get('format') === 'json') sendJson(res, 200, { clusters: views });
  else send(res, 200, TEXT, clustersText(views));
}

/** Envoy's text: `name::address`; ours adds the protocol (`web::127.0.0.1:8080::http`). */
function listeners({ facts, query, res }: AdminRequest): void {
  const list = facts.config.listeners.map((l) => ({ name: l.name, address: formatAddress(l.address), protocol: l.protocol }));
  if (query.get('format') === 'json') sendJson(res, 200, { listeners: list });
  else send(res, 200, TEXT, list.map((l) => `${l.name}::${l.address}::${l.protocol}\n`).join(''));
}

function configDump({ facts, res }: AdminRequest): void {
  sendJson(res, 200, { epoch: facts.epoch, configHash: facts.configHash, config: redactConfig(facts.config) });
}

/** As Envoy prints it, `<protocol>.<stats layout>`: epochs of two builds hot-restart only when it is equal. */
function hotRestartVersion({ res }: AdminRequest): void {
  send(res, 200, TEXT, `${PROTOCOL_VERSION}.${STATS_LAYOUT_VERSION}\n`);
}

export const INFO_ROUTES: readonly AdminRoute[] = [
  { path: '/server_info', method: 'GET', help: 'version, epoch, pid, state, uptime, workers, config hash (JSON)', handle: serverInfo },
  { path: '/clusters', method: 'GET', help: 'each cluster and host, one fact a line; ?format=json', handle: clusters },
  { path: '/listeners', method: 'GET', help: 'each listener: name::address::protocol; ?format=json', handle: listeners },
  { path: '/config_dump', method: 'GET', help: 'the running config as JSON, secrets redacted', handle: configDump },
  { path: '/hot_restart_version', method: 'GET', help: 'hot-restart protocol and stats layout versions (<protocol>.<layout>)', handle: hotRestartVersion },
];
