import { ProxyctlCommand } from '../cli/base-command.js';
import { runStatus, type StatusJson } from '../cli/control-commands.js';
import { COMMAND_FLAGS } from '../cli/flag-spec.js';
import { oclifFlags } from '../cli/oclif-flags.js';

export default class Status extends ProxyctlCommand {
  static override summary = 'Show the supervisor and its epochs.';
  static override description =
    'Each epoch with its number, pid, state (starting, active, draining, exited), uptime, open connections and worker threads, and the warm standby epoch if there is one (state loading, then standby). The last few exited epochs stay in the list. With --clusters, also a table per cluster of the serving epoch: each host with its weight, health, flags, active requests, outlier ejection and locality.';
  static override examples = ['<%= config.bin %> status', '<%= config.bin %> status --json', '<%= config.bin %> status --clusters', '<%= config.bin %> status --no-color'];

  static override flags = oclifFlags(COMMAND_FLAGS.status);

  async run(): Promise<StatusJson> {
    const { flags } = await this.parse(Status);
    return this.finish(await runStatus(flags), flags);
  }
}
