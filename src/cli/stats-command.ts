/**
 * The body of `proxyctl stats`, without oclif (see src/cli/control-commands.ts). Apart from
 * them because it maps the stats region (the mmap addon), which the RPC commands never need.
 */
import { ProxyctlError, errnoCode, isProxyctlError } from '../errors.js';
import { StatsRegion, readSnapshot, snapshotToJson } from '../shm/index.js';
import type { CommandFlags } from './flag-spec.js';
import type { CommandResult } from './output.js';
import { commandPaths } from './paths.js';
import { formatSnapshot } from './render-stats.js';

export type StatsJson = ReturnType<typeof snapshotToJson>;

export function runStats(flags: CommandFlags<'stats'>): CommandResult<StatsJson> {
  let filter: RegExp | undefined;
  try {
    filter = flags.filter === undefined ? undefined : new RegExp(flags.filter);
  } catch {
    throw new ProxyctlError('PROXYCTL_ERR_USAGE', `--filter is not a valid regular expression: ${flags.filter}`, { flag: 'filter' });
  }
  const { stats } = commandPaths(flags);
  let region: StatsRegion;
  try {
    region = StatsRegion.open(stats, { readOnly: true });
  } catch (err: unknown) {
    if (isProxyctlError(err, 'PROXYCTL_ERR_SHM_IO') && err.details.errno === 'ENOENT') {
      throw new ProxyctlError('PROXYCTL_ERR_NOT_RUNNING', `no stats region at ${stats}: is proxyctl running with base id ${flags['base-id']}?`, { path: stats, errno: errnoCode(err.cause) });
    }
    throw err;
  }
  const snapshot = readSnapshot(region, filter);
  return { json: snapshotToJson(snapshot), human: [formatSnapshot(snapshot)] };
}
