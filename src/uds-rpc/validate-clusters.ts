/**
 * Validators for what the RPC carries about clusters: the health and outlier state a serving
 * epoch hands to the next one (clusters/types.ts ClusterStateHandoff), and the views operators
 * see (ClusterView, HostView).
 */
import type { ActiveHealth, ClusterStateHandoff, ClusterView, HandedHost, HostView, OutlierState } from '../clusters/types.js';
import type { EndpointMetadata, Locality } from '../config/types.js';
import { bool, int, invalid, isJsonObject, object, objects, oneOf, str, type JsonObject } from './json-fields.js';

const HEALTH: readonly ActiveHealth[] = ['unknown', 'healthy', 'degraded', 'unhealthy'];
const REASONS = ['consecutive5xx', 'consecutiveGatewayFailure', 'successRate'] as const;

/** `obj[key]`: a handoff, or null when absent or null (a peer that has none, or predates it). */
export function handoffOrNull(obj: JsonObject, key: string): ClusterStateHandoff | null {
  const v = obj[key];
  if (v === undefined || v === null) return null;
  if (!isJsonObject(v)) throw invalid(`${key} must be an object or null`);
  return validateHandoff(v);
}

export function validateHandoff(o: JsonObject): ClusterStateHandoff {
  const clusters: Record<string, Record<string, HandedHost>> = {};
  const byCluster = object(o, 'clusters');
  for (const [name, hosts] of Object.entries(byCluster)) {
    if (!isJsonObject(hosts)) throw invalid(`clusters.${name} must be an object`);
    const out: Record<string, HandedHost> = {};
    for (const [key, h] of Object.entries(hosts)) {
      if (!isJsonObject(h)) throw invalid(`clusters.${name}["${key}"] must be an object`);
      out[key] = { health: oneOf(h, 'health', HEALTH), outlier: validateOutlier(object(h, 'outlier')) };
    }
    clusters[name] = out;
  }
  return { clusters };
}

function validateOutlier(o: JsonObject): OutlierState {
  return {
    ejected: bool(o, 'ejected'),
    ejectedUntil: int(o, 'ejectedUntil', 0),
    ejections: int(o, 'ejections', 0),
    lastReason: o.lastReason === null ? null : oneOf(o, 'lastReason', REASONS),
  };
}

/** `obj[key]`: cluster views, or null when null (no epoch serves, or it did not answer). */
export function viewsOrNull(obj: JsonObject, key: string): ClusterView[] | null {
  return obj[key] === null ? null : validateViews(obj, key);
}

export function validateViews(obj: JsonObject, key: string): ClusterView[] {
  return objects(obj, key).map((c) => ({
    name: str(c, 'name'),
    discovery: str(c, 'discovery'),
    lb: str(c, 'lb'),
    hosts: objects(c, 'hosts').map(validateHostView),
    healthy: int(c, 'healthy', 0),
    degraded: int(c, 'degraded', 0),
    panic: bool(c, 'panic'),
  }));
}

/** Counters are Int32 slots: a negative one is a bug to show, not a reason to refuse the whole view. */
const INT32_MIN = -(2 ** 31);

function validateHostView(h: JsonObject): HostView {
  const flags = h.flags;
  if (!Array.isArray(flags) || !flags.every((f) => typeof f === 'string')) throw invalid('flags must be an array of strings');
  return {
    address: str(h, 'address'),
    weight: int(h, 'weight', 0),
    locality: h.locality === null ? null : validateLocality(object(h, 'locality')),
    metadata: h.metadata === null ? null : validateMetadata(object(h, 'metadata')),
    health: h.health === null ? null : oneOf(h, 'health', HEALTH),
    flags,
    activeRequests: int(h, 'activeRequests', INT32_MIN),
    outlier: h.outlier === null ? null : validateOutlier(object(h, 'outlier')),
    since: int(h, 'since', 0),
  };
}

function validateLocality(o: JsonObject): Locality {
  const out: { region?: string; zone?: string; subZone?: string } = {};
  for (const part of ['region', 'zone', 'subZone'] as const) if (o[part] !== undefined) out[part] = str(o, part);
  return out;
}

function validateMetadata(o: JsonObject): EndpointMetadata {
  for (const [k, v] of Object.entries(o)) {
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw invalid(`metadata.${k} must be a string, number or boolean`);
  }
  return o as EndpointMetadata;
}
