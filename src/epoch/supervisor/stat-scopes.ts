/**
 * Stat scopes: the stats that belong to one listener or cluster of a config, named
 * `<kind>.<object>.…` (src/stats/scope-names.ts). A reload that removes the object leaves
 * its scope behind in the shared region; once no live epoch's config has the object (the active one, the draining ones, one
 * being brought up, the standby), nobody alive holds a handle into it and the supervisor frees
 * it, so a long-lived instance that renames clusters does not fill its region. A scope that is
 * kept survives reloads with its totals; a removed one starts again from 0 if it comes back.
 */
import type { ProxyConfig } from '../../config/types.js';
import type { Logger } from '../../log.js';
import type { Counter, Gauge } from '../../shm/handles.js';
import { OVERFLOW_STAT, type StatsRegion } from '../../shm/region.js';
import { CLUSTER_SCOPE_KIND, LISTENER_SCOPE_KINDS, scopeOf } from '../../stats/scope-names.js';

/** Every scope the stats of `config` may be allocated in. */
export function scopesOf(config: ProxyConfig): Set<string> {
  const scopes = new Set<string>();
  for (const l of config.listeners) for (const kind of LISTENER_SCOPE_KINDS) scopes.add(`${kind}.${l.name}.`);
  for (const c of config.clusters) scopes.add(`${CLUSTER_SCOPE_KIND}.${c.name}.`);
  return scopes;
}

export interface ScopeStats {
  /** Scopes freed (one per listener or cluster kind: `listener.b.` and `http.b.` are two). */
  scopesFreed: Counter;
  /** Region entries freed with them. */
  entriesFreed: Counter;
  /** Allocations that took a freed entry, as the region counts them (refreshed at each sweep). */
  entriesReused: Gauge;
}

export function scopeStats(region: StatsRegion): ScopeStats {
  // Made here, first thing, so the region has room to count its own overflows (region.ts #full).
  region.counter(OVERFLOW_STAT);
  return { scopesFreed: region.counter('stats.scopes_freed'), entriesFreed: region.counter('stats.entries_freed'), entriesReused: region.gauge('stats.entries_reused') };
}

/**
 * Frees every scope in the region that none of `live` uses. The supervisor calls it when an
 * epoch has exited, synchronously, so no epoch can be spawned (and allocate) between the
 * choice and the free. Returns the scopes freed.
 */
export function sweepScopes(region: StatsRegion, live: readonly ProxyConfig[], stats: ScopeStats, log: Logger): string[] {
  const inUse = new Set<string>();
  for (const config of live) for (const s of scopesOf(config)) inUse.add(s);
  const freed = new Set<string>();
  let entries: number;
  try {
    entries = region.free((name) => {
      const scope = scopeOf(name);
      if (scope === null || inUse.has(scope)) return false;
      freed.add(scope);
      return true;
    });
  } catch (err: unknown) {
    // A lock held too long: nothing was freed, and the next exit tries again.
    log.warn('could not free the stats of removed listeners and clusters', { error: err });
    return [];
  }
  stats.entriesReused.set(region.freeCounts().reused);
  if (entries === 0) return [];
  stats.scopesFreed.add(freed.size);
  stats.entriesFreed.add(entries);
  log.info('stats of removed listeners and clusters freed', { scopes: [...freed].join(' '), entries });
  return [...freed];
}
