import { ProxyctlCommand } from '../cli/base-command.js';
import { runDrain, type DrainJson } from '../cli/control-commands.js';
import { COMMAND_FLAGS } from '../cli/flag-spec.js';
import { oclifFlags } from '../cli/oclif-flags.js';

export default class Drain extends ProxyctlCommand {
  static override summary = 'Take this host out of rotation: stop accepting, fail /ready, drain, stay up.';
  static override description =
    'The listening sockets are closed, so new connections are refused and a load balancer fails over at once; the admin endpoint stays up and /ready answers 503. Open connections drain as in a reload (HTTP: Connection: close on the next response). The epoch stays up: `proxyctl stop` ends it, `proxyctl reload` puts the host back in rotation. Returns at once, unless --wait: then it returns once no connection is left or the drain time has passed, showing the connections and the time left on a terminal.';
  static override examples = ['<%= config.bin %> drain && sleep 30 && <%= config.bin %> stop', '<%= config.bin %> drain --wait && <%= config.bin %> stop', '<%= config.bin %> drain --wait --json'];

  static override flags = oclifFlags(COMMAND_FLAGS.drain);

  async run(): Promise<DrainJson> {
    const { flags } = await this.parse(Drain);
    return this.finish(await runDrain(flags, this.progress()), flags);
  }
}
