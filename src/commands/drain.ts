import { ProxyctlCommand } from '../cli/base-command.js';
import { askSupervisor } from '../control/client.js';

interface DrainJson {
  ok: true;
  epoch: number;
  connections: number;
}

export default class Drain extends ProxyctlCommand {
  static override summary = 'Take this host out of rotation: stop accepting, fail /ready, drain, stay up.';
  static override description =
    'The listening sockets are closed, so new connections are refused and a load balancer fails over at once; the admin endpoint stays up and /ready answers 503. Open connections drain as in a reload (HTTP: Connection: close on the next response). The epoch stays up: `proxyctl stop` ends it, `proxyctl reload` puts the host back in rotation.';
  static override examples = ['<%= config.bin %> drain && sleep 30 && <%= config.bin %> stop'];

  async run(): Promise<DrainJson> {
    const { flags } = await this.parse(Drain);
    const reply = await askSupervisor(this.paths(flags), flags['base-id'], { type: 'drainHost' }, 10_000);
    if (!this.jsonEnabled()) this.log(`epoch ${reply.epoch} is out of rotation; ${reply.connections} connection(s) draining`);
    return { ok: true, epoch: reply.epoch, connections: reply.connections };
  }
}
