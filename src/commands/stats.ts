import { ProxyctlCommand } from '../cli/base-command.js';
import { COMMAND_FLAGS } from '../cli/flag-spec.js';
import { oclifFlags } from '../cli/oclif-flags.js';
import { runStats, type StatsJson } from '../cli/stats-command.js';

export default class Stats extends ProxyctlCommand {
  static override summary = 'Print the counters, gauges and histograms of the shared stats region.';
  static override description =
    'Reads the stats region directly (read-only mapping), so it works while a reload is in progress and needs no running admin endpoint.';
  static override examples = [
    '<%= config.bin %> stats',
    '<%= config.bin %> stats --filter "^http\\." --json',
    '<%= config.bin %> stats --histograms',
    '<%= config.bin %> stats --watch --interval 2s --filter "^cluster\\.app\\."',
  ];

  static override flags = oclifFlags(COMMAND_FLAGS.stats);

  async run(): Promise<StatsJson> {
    const { flags } = await this.parse(Stats);
    return this.finish(await runStats(flags, this.jsonEnabled()), flags);
  }
}
