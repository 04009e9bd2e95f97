import { ProxyctlCommand } from '../cli/base-command.js';
import { runReload, type ReloadJson } from '../cli/control-commands.js';
import { COMMAND_FLAGS } from '../cli/flag-spec.js';
import { oclifFlags } from '../cli/oclif-flags.js';

export default class Reload extends ProxyctlCommand {
  static override summary = 'Start a new epoch on the new config or code; the old one drains once the new one is ready.';
  static override description =
    'Blocks until the new epoch is ready, or until the reload failed, and prints each step with its time. The config is checked first: an invalid file exits 78 and nothing is started. If the new epoch crashes, hangs or is incompatible, it is killed, the serving epoch serves on, and the exit status is 75. Reloads asked for while one is running are folded into one.';
  static override examples = ['<%= config.bin %> reload', '<%= config.bin %> reload --config /etc/proxyctl/new.yaml --json', '<%= config.bin %> reload --cold'];

  static override flags = oclifFlags(COMMAND_FLAGS.reload);

  async run(): Promise<ReloadJson> {
    const { flags } = await this.parse(Reload);
    return this.finish(await runReload(flags, this.progress()), flags);
  }
}
