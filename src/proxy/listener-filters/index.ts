/** Builds a listener's filters for one snapshot: adding a kind is a new file plus a branch here. */
import type { ListenerFilterConfig } from '../../config/types.js';
import type { StatsStore } from '../../shm/types.js';
import { ProxyProtocolFilter, proxyProtocolStats } from './proxy-protocol.js';
import { TlsInspectorFilter, tlsInspectorStats } from './tls-inspector.js';
import type { ListenerFilter } from './types.js';

export type { ListenerFilter } from './types.js';
export { ListenerFilterRun, type ListenerFilterHost } from './run.js';
export { inspectedHello, type InspectedHello } from './tls-inspector.js';

/** Null when the listener has none: the accept path then skips the run entirely. */
export function buildListenerFilters(listener: string, configs: readonly ListenerFilterConfig[] | undefined, stats: StatsStore): readonly ListenerFilter[] | null {
  if (configs === undefined || configs.length === 0) return null;
  return Object.freeze(configs.map((c) => buildOne(listener, c, stats)));
}

function buildOne(listener: string, c: ListenerFilterConfig, stats: StatsStore): ListenerFilter {
  if ('proxyProtocol' in c) return new ProxyProtocolFilter(c.proxyProtocol, proxyProtocolStats(listener, stats));
  return new TlsInspectorFilter(c.tlsInspector, tlsInspectorStats(listener, stats));
}
