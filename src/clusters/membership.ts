/**
 * Building membership snapshots: the shared counter blocks, the host key, and the membership
 * a plane starts with when nobody manages its clusters (the config's static endpoints, all
 * healthy). The cluster manager starts from the same and publishes newer versions.
 */
import { formatAddress } from '../config/address.js';
import type { ClusterConfig, EndpointConfig } from '../config/types.js';
import { BUDGET_SLOTS, HOST_SLOTS, type ClusterMembership, type HostData } from './types.js';

export function newHostCounters(): SharedArrayBuffer {
  return new SharedArrayBuffer(HOST_SLOTS * Int32Array.BYTES_PER_ELEMENT);
}

export function newBudget(): SharedArrayBuffer {
  return new SharedArrayBuffer(BUDGET_SLOTS * Int32Array.BYTES_PER_ELEMENT);
}

/** `host:port`, IPv6 in brackets: how hosts are named in stats, logs, the admin API and hash rings. */
export function hostKey(e: { readonly host: string; readonly port: number }): string {
  return formatAddress(e);
}

/** A host as first published: no flags, out of slow start (`since` 0), fresh counters. */
export function hostData(e: EndpointConfig, flags = 0, since = 0, counters = newHostCounters()): HostData {
  return { host: e.host, port: e.port, weight: e.weight, locality: e.locality, metadata: e.metadata, flags, since, counters };
}

/** Version 0: any membership the cluster manager publishes replaces it. */
export function staticMembership(c: ClusterConfig): ClusterMembership {
  return { cluster: c.name, version: 0, hosts: c.endpoints.map((e) => hostData(e)), budget: newBudget() };
}

/** Which of a cluster's hosts take traffic (see TrafficSet). */
export const enum TrafficSet {
  /** Those with no flag. */
  Healthy,
  /** Those with no flag and those only degraded: the healthy ones alone are below the panic threshold. */
  WithDegraded,
  /** Every host (panic): even with the degraded ones, too few; Envoy spreads load rather than overload the few. */
  All,
  /** None: no host at all, or none healthy with a panic threshold of 0. */
  None,
}

/** `healthy`, `degraded` (only degraded) and `total` hosts, `threshold` a percentage. */
export function trafficSet(healthy: number, degraded: number, total: number, threshold: number): TrafficSet {
  const need = (threshold * total) / 100;
  if (healthy > 0 && healthy >= need) return TrafficSet.Healthy;
  if (healthy + degraded > 0 && healthy + degraded >= need) return TrafficSet.WithDegraded;
  return need === 0 || total === 0 ? TrafficSet.None : TrafficSet.All;
}
