import { Flags } from '@oclif/core';
import { ProxyctlCommand } from '../cli/base-command.js';
import { ProxyctlError, isProxyctlError, errnoCode } from '../errors.js';
import { StatsRegion, readSnapshot, snapshotToJson } from '../shm/index.js';
import { formatSnapshot } from '../cli/render-stats.js';

type StatsJson = ReturnType<typeof snapshotToJson>;

export default class Stats extends ProxyctlCommand {
  static override summary = 'Print the counters, gauges and histograms of the shared stats region.';
  static override description =
    'Reads the stats region directly (read-only mapping), so it works while a reload is in progress and needs no running admin endpoint.';
  static override examples = ['<%= config.bin %> stats', '<%= config.bin %> stats --filter "^http\\." --json'];

  static override flags = {
    filter: Flags.string({ description: 'Only stats whose name matches this regular expression.' }),
  };

  async run(): Promise<StatsJson> {
    const { flags } = await this.parse(Stats);
    let filter: RegExp | undefined;
    try {
      filter = flags.filter === undefined ? undefined : new RegExp(flags.filter);
    } catch {
      throw new ProxyctlError('PROXYCTL_ERR_USAGE', `--filter is not a valid regular expression: ${flags.filter}`, { flag: 'filter' });
    }
    const { stats } = this.paths(flags);
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
    if (!this.jsonEnabled()) this.log(formatSnapshot(snapshot));
    return snapshotToJson(snapshot);
  }
}
