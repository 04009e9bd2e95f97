import { ProxyctlCommand } from '../cli/base-command.js';
import { runStop, type StopJson } from '../cli/control-commands.js';
import { COMMAND_FLAGS } from '../cli/flag-spec.js';
import { oclifFlags } from '../cli/oclif-flags.js';

export default class Stop extends ProxyctlCommand {
  static override summary = 'Stop the supervisor: close the listeners, drain every epoch, exit.';
  static override description =
    'New connections are refused from the start; open ones drain as in a reload (up to the config\'s parentShutdownTime). Returns once the supervisor has exited. --now closes every connection at once instead.';
  static override examples = ['<%= config.bin %> stop', '<%= config.bin %> stop --now'];

  static override flags = oclifFlags(COMMAND_FLAGS.stop);

  async run(): Promise<StopJson> {
    const { flags } = await this.parse(Stop);
    return this.finish(await runStop(flags, this.progress()), flags);
  }
}
