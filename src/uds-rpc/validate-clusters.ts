/**
 * Validators for what the RPC carries about clusters: the health and outlier state a serving
 * epoch hands to the next one (clusters/types.ts ClusterStateHandoff).
 */
import type { ActiveHealth, ClusterStateHandoff, HandedHost, OutlierState } from '../clusters/types.js';
import { bool, int, invalid, isJsonObject, object, oneOf, type JsonObject } from './json-fields.js';

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
