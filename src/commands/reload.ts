import { resolve } from 'node:path';
import { Flags } from '@oclif/core';
import { ProxyctlCommand } from '../cli/base-command.js';
import { askSupervisor } from '../control/client.js';
import type { TimelineEvent } from '../uds-rpc/index.js';

interface ReloadJson {
  ok: true;
  epoch: number;
  pid: number;
  configPath: string;
  coalesced: boolean;
  timeline: TimelineEvent[];
}

/** The supervisor enforces the real deadlines (ready timeout, hurry); this only guards against a hung supervisor. */
const RELOAD_TIMEOUT_MS = 5 * 60_000;

export default class Reload extends ProxyctlCommand {
  static override summary = 'Start a new epoch on the new config or code; the old one drains once the new one is ready.';
  static override description =
    'Blocks until the new epoch is ready, or until the reload failed, and prints each step with its time. The config is checked first: an invalid file exits 78 and nothing is started. If the new epoch crashes, hangs or is incompatible, it is killed, the serving epoch serves on, and the exit status is 75. Reloads asked for while one is running are folded into one.';
  static override examples = ['<%= config.bin %> reload', '<%= config.bin %> reload --config /etc/proxyctl/new.yaml --json'];

  static override flags = {
    config: Flags.string({ description: 'Switch to this config file (default: re-read the current one).' }),
  };

  async run(): Promise<ReloadJson> {
    const { flags } = await this.parse(Reload);
    const reply = await askSupervisor(
      this.paths(flags),
      flags['base-id'],
      { type: 'reload', configPath: flags.config === undefined ? null : resolve(flags.config), testFault: process.env.PROXYCTL_TEST_FAULT ?? null },
      RELOAD_TIMEOUT_MS,
    );
    if (!this.jsonEnabled()) {
      this.log(`epoch ${reply.epoch} is active (pid ${reply.pid}${reply.coalesced ? ', coalesced with other reload requests' : ''})`);
      for (const e of reply.timeline) this.log(`${String(e.atMs).padStart(7)} ms  ${e.event.padEnd(20)}${e.detail ?? ''}`.trimEnd());
    }
    return { ok: true, epoch: reply.epoch, pid: reply.pid, configPath: reply.configPath, coalesced: reply.coalesced, timeline: reply.timeline };
  }
}
