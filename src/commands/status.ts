import { ProxyctlCommand } from '../cli/base-command.js';
import { askSupervisor } from '../control/client.js';
import type { StatusReply } from '../uds-rpc/index.js';

type StatusJson = Omit<StatusReply, 'type'>;

const WIDTHS = [6, 8, 10, 9, 12, 7];

function row(cols: readonly string[]): string {
  return cols.map((c, i) => c.padEnd(WIDTHS[i]!)).join('').trimEnd();
}

function duration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60}s`;
  return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
}

export default class Status extends ProxyctlCommand {
  static override summary = 'Show the supervisor and its epochs.';
  static override description = 'Each epoch with its number, pid, state (starting, active, draining, exited), uptime, open connections and worker threads. The last few exited epochs stay in the list.';
  static override examples = ['<%= config.bin %> status', '<%= config.bin %> status --json'];

  async run(): Promise<StatusJson> {
    const { flags } = await this.parse(Status);
    const { supervisor, epochs } = await askSupervisor(this.paths(flags), flags['base-id'], { type: 'status' }, 10_000);
    if (!this.jsonEnabled()) {
      this.log(`supervisor pid ${supervisor.pid}, base id ${supervisor.baseId}, up ${duration(supervisor.uptimeMs)}${supervisor.reloading ? ', reloading' : ''}`);
      this.log(`config ${supervisor.configPath}`);
      this.log(row(['EPOCH', 'PID', 'STATE', 'UPTIME', 'CONNECTIONS', 'WORKERS']));
      for (const e of epochs) {
        this.log(row([String(e.epoch), String(e.pid), e.state, duration(e.uptimeMs), e.connections === null ? '?' : String(e.connections), String(e.workers)]));
      }
    }
    return { supervisor, epochs };
  }
}
