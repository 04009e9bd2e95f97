import { Flags } from '@oclif/core';
import { ProxyctlCommand } from '../cli/base-command.js';
import { parseDuration } from '../config/duration.js';
import { connectSupervisor, request } from '../control/client.js';
import { ProxyctlError } from '../errors.js';
import { processIsAlive } from '../shm/locks.js';

interface StopJson {
  ok: true;
  pid: number;
}

export default class Stop extends ProxyctlCommand {
  static override summary = 'Stop the supervisor: close the listeners, drain every epoch, exit.';
  static override description =
    'New connections are refused from the start; open ones drain as in a reload (up to the config\'s parentShutdownTime). Returns once the supervisor has exited. --now closes every connection at once instead.';
  static override examples = ['<%= config.bin %> stop', '<%= config.bin %> stop --now'];

  static override flags = {
    now: Flags.boolean({ description: 'Skip the drain: close every connection now.', default: false }),
    timeout: Flags.string({ description: 'Give up waiting for the supervisor to exit after this long (exit 75).', default: '5m' }),
  };

  async run(): Promise<StopJson> {
    const { flags } = await this.parse(Stop);
    const timeout = parseDuration(flags.timeout);
    if (!timeout.ok) throw new ProxyctlError('PROXYCTL_ERR_USAGE', `--timeout: ${timeout.message}`, { flag: 'timeout' });
    const deadline = Date.now() + timeout.ms;
    const conn = await connectSupervisor(this.paths(flags), flags['base-id']);
    let pid: number;
    try {
      ({ pid } = await request(conn, { type: 'stop', now: flags.now }, 10_000));
    } finally {
      conn.close();
    }
    // The supervisor's pid stays ours to watch: nothing else can take it while it lives.
    while (processIsAlive(pid)) {
      if (Date.now() >= deadline) throw new ProxyctlError('PROXYCTL_ERR_STOP_TIMEOUT', `supervisor pid ${pid} still runs after ${flags.timeout}`, { pid });
      await new Promise((r) => setTimeout(r, 50));
    }
    if (!this.jsonEnabled()) this.log(`proxyctl: stopped (supervisor pid ${pid})`);
    return { ok: true, pid };
  }
}
