/**
 * From an http listener's `httpFilters` to something that makes a chain per request: each
 * factory's `prepare` runs here once (per snapshot, in the worker that uses it), and `create`
 * then only instantiates the filters. Build it where the snapshot is built, in the worker.
 */
import type { HttpListenerConfig } from '../../config/types.js';
import type { StatsStore } from '../../shm/types.js';
import type { FilterContext, HttpFilter, StreamInfo } from './filter.js';
import { DEFAULT_BUFFER_LIMIT_BYTES, FilterChain } from './filter-chain.js';
import type { ChainStats, ChainTerminal, DownstreamSink, FilterChainApi, FilterChainFactory } from './filter-chain-types.js';
import { HTTP_FILTERS, statSegment, type AnyHttpFilterFactory } from './filters/index.js';

export interface FilterChainBuildContext {
  readonly stats: StatsStore;
  /** Worker threads of the epoch (`ProxyConfig.workers`). */
  readonly workers: number;
  /** Bytes a stopped direction may queue; default 1 MiB. */
  readonly bufferLimitBytes?: number;
  /** The filters by name; default `HTTP_FILTERS`. Tests pass factories with fake clocks. */
  readonly registry?: ReadonlyMap<string, AnyHttpFilterFactory>;
}

interface PreparedEntry {
  readonly factory: AnyHttpFilterFactory;
  readonly prepared: unknown;
}

class PreparedChainFactory implements FilterChainFactory {
  readonly isEmpty: boolean;
  readonly names: readonly string[];

  constructor(
    private readonly entries: readonly PreparedEntry[],
    private readonly stats: ChainStats | null,
    private readonly bufferLimitBytes: number,
  ) {
    this.isEmpty = entries.length === 0;
    this.names = entries.map((e) => e.factory.name);
  }

  create(streamInfo: StreamInfo, terminal: ChainTerminal, sink: DownstreamSink): FilterChainApi {
    const filters: HttpFilter[] = new Array<HttpFilter>(this.entries.length);
    for (let i = 0; i < this.entries.length; i++) {
      const e = this.entries[i] as PreparedEntry;
      filters[i] = e.factory.create(e.prepared);
    }
    return new FilterChain(filters, streamInfo, terminal, sink, this.stats ?? NO_STATS, this.bufferLimitBytes);
  }
}

const NO_STATS: ChainStats = { filterError: { inc() {} }, bufferOverflow: { inc() {} } };

/**
 * Prepares a listener's filters. Stats are `http.<listener>.<filter>.` (`local_rate_limit`
 * for `localRateLimit`); a filter named twice gets `_2`, `_3`, ... on its later entries, so
 * each keeps its own stats and state. The chain's own counters are
 * `http.<listener>.downstream_rq_filter_error` and `..._filter_buffer_overflow`.
 * Throws if a name is not in the registry (the config schema rules that out).
 */
export function buildFilterChainFactory(listener: HttpListenerConfig, ctx: FilterChainBuildContext): FilterChainFactory {
  const registry = ctx.registry ?? HTTP_FILTERS;
  const configured = listener.httpFilters ?? [];
  const seen = new Map<string, number>();
  const entries = configured.map((f): PreparedEntry => {
    const factory = registry.get(f.name);
    if (factory === undefined) throw new Error(`listener ${listener.name}: unknown http filter ${f.name}`);
    const n = (seen.get(f.name) ?? 0) + 1;
    seen.set(f.name, n);
    const segment = n === 1 ? statSegment(f.name) : `${statSegment(f.name)}_${n}`;
    const fctx: FilterContext = { listenerName: listener.name, statPrefix: `http.${listener.name}.${segment}.`, stats: ctx.stats, workers: ctx.workers };
    return { factory, prepared: factory.prepare(f.config, fctx) };
  });
  const stats: ChainStats | null =
    entries.length === 0
      ? null
      : {
          filterError: ctx.stats.counter(`http.${listener.name}.downstream_rq_filter_error`),
          bufferOverflow: ctx.stats.counter(`http.${listener.name}.downstream_rq_filter_buffer_overflow`),
        };
  return new PreparedChainFactory(entries, stats, ctx.bufferLimitBytes ?? DEFAULT_BUFFER_LIMIT_BYTES);
}
