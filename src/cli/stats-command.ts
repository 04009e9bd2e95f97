/**
 * The body of `proxyctl stats`, without oclif (see src/cli/control-commands.ts). Apart from
 * them because it maps the stats region (the mmap addon), which the RPC commands never need.
 */
import { parseDuration } from '../config/duration.js';
import { ProxyctlError, errnoCode, isProxyctlError } from '../errors.js';
import { StatsRegion, readSnapshot, snapshotToJson } from '../shm/index.js';
import { formatSnapshot } from '../stats-format/text.js';
import type { CommandFlags } from './flag-spec.js';
import type { CommandResult } from './output.js';
import { commandPaths } from './paths.js';
import { histogramTable } from './render-stats.js';
import { watchStats } from './stats-watch.js';

export type StatsJson = ReturnType<typeof snapshotToJson> | { intervals: number };

/** `json`: the caller prints `--json` (--watch has no JSON form: it prints as it goes). */
export async function runStats(flags: CommandFlags<'stats'>, json = false): Promise<CommandResult<StatsJson>> {
  let filter: RegExp | undefined;
  try {
    filter = flags.filter === undefined ? undefined : new RegExp(flags.filter);
  } catch {
    throw new ProxyctlError('PROXYCTL_ERR_USAGE', `--filter is not a valid regular expression: ${flags.filter}`, { flag: 'filter' });
  }
  if (flags.watch && (json || flags.histograms)) throw new ProxyctlError('PROXYCTL_ERR_USAGE', '--watch prints rates as it goes: it takes neither --json nor --histograms', { flag: 'watch' });
  if (!flags.watch && flags.count !== undefined) throw new ProxyctlError('PROXYCTL_ERR_USAGE', '--count applies to --watch only', { flag: 'count' });
  const interval = parseDuration(flags.interval);
  if (!interval.ok || interval.ms < 100) throw new ProxyctlError('PROXYCTL_ERR_USAGE', `--interval must be a duration of at least 100ms, such as 1s: ${flags.interval}`, { flag: 'interval' });

  const region = openRegion(flags);
  if (flags.watch) {
    const intervals = await watchStats(region, { intervalMs: interval.ms, count: flags.count ?? null, read: (r) => readSnapshot(r, filter), out: process.stdout });
    return { json: { intervals }, human: [] };
  }
  const snapshot = readSnapshot(region, filter);
  if (flags.histograms) {
    const only = { ...snapshot, counters: new Map(), gauges: new Map() };
    return { json: snapshotToJson(only), human: histogramTable(only) };
  }
  return { json: snapshotToJson(snapshot), human: [formatSnapshot(snapshot)] };
}

function openRegion(flags: CommandFlags<'stats'>): StatsRegion {
  const { stats } = commandPaths(flags);
  try {
    return StatsRegion.open(stats, { readOnly: true });
  } catch (err: unknown) {
    if (isProxyctlError(err, 'PROXYCTL_ERR_SHM_IO') && err.details.errno === 'ENOENT') {
      throw new ProxyctlError('PROXYCTL_ERR_NOT_RUNNING', `no stats region at ${stats}: is proxyctl running with base id ${flags['base-id']}?`, { path: stats, errno: errnoCode(err.cause) });
    }
    throw err;
  }
}
