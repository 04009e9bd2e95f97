import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { ProxyctlCommand } from '../cli/base-command.js';
import { COMMAND_FLAGS } from '../cli/flag-spec.js';
import { oclifFlags } from '../cli/oclif-flags.js';
import { loadConfigFile } from '../config/load.js';
import { DRAIN_DEFAULTS } from '../config/schema.js';
import type { DrainConfig } from '../config/types.js';
import { isProxyctlError } from '../errors.js';
import { PACKAGE_ROOT } from '../package-root.js';
import { renderUnit, timeoutStopSec } from '../systemd/unit.js';

interface SystemdUnitJson {
  user: boolean;
  configPath: string;
  timeoutStopSec: number;
  unit: string;
}

export default class SystemdUnit extends ProxyctlCommand {
  static override summary = 'Print a systemd unit that runs this installed proxyctl (Type=notify, blocking reload).';
  static override description =
    'The unit runs the supervisor in the foreground as its main process (Type=notify: it sends READY=1, RELOADING=1/READY=1 around each reload, STOPPING=1, STATUS= and WATCHDOG=1), checks the config with `validate` before each start, reloads with `proxyctl reload` (which blocks and fails when the reload fails), stops with SIGTERM to the supervisor only (KillMode=mixed) and sets TimeoutStopSec from the config\'s drain settings. The paths are this installation\'s, absolute. Save it as /etc/systemd/system/proxyctl.service (--user: ~/.config/systemd/user/proxyctl.service).';
  static override examples = ['<%= config.bin %> systemd-unit > /etc/systemd/system/proxyctl.service', '<%= config.bin %> systemd-unit --user --config ~/proxy.yaml > ~/.config/systemd/user/proxyctl.service'];

  static override flags = oclifFlags(COMMAND_FLAGS['systemd-unit']);

  async run(): Promise<SystemdUnitJson> {
    const { flags } = await this.parse(SystemdUnit);
    const configPath = resolve(flags.config ?? defaultConfigPath(flags.user));
    const drain = await drainOf(configPath);
    const unit = renderUnit({
      user: flags.user,
      command: [process.execPath, resolve(PACKAGE_ROOT, 'bin/run.js')],
      configPath,
      drain: drain ?? DRAIN_DEFAULTS,
      drainIsDefault: drain === null,
      baseId: flags['base-id'],
    });
    if (!this.jsonEnabled()) process.stdout.write(unit);
    return { user: flags.user, configPath, timeoutStopSec: timeoutStopSec(drain ?? DRAIN_DEFAULTS), unit };
  }
}

function defaultConfigPath(user: boolean): string {
  if (!user) return '/etc/proxyctl/proxyctl.yaml';
  return join(process.env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'proxyctl', 'proxyctl.yaml');
}

/** The config's drain settings; null when the file does not exist yet. An invalid config fails (78). */
async function drainOf(path: string): Promise<DrainConfig | null> {
  try {
    return (await loadConfigFile(path)).config.drain;
  } catch (err: unknown) {
    if (isProxyctlError(err) && err.code === 'PROXYCTL_ERR_CONFIG_READ' && err.details.errno === 'ENOENT') return null;
    throw err;
  }
}
