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
export function staticMembership(c: ClusterConfig, budget = newBudget()): ClusterMembership {
  return { cluster: c.name, version: 0, hosts: c.endpoints.map((e) => hostData(e)), budget };
}
