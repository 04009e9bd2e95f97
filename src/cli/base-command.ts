import { Command, Flags } from '@oclif/core';
import { ProxyctlError, ExitCode } from '../errors.js';
import { baseIdPaths, resolveRuntimeDir, type BaseIdPaths } from '../runtime-dir.js';

/**
 * What every proxyctl command shares: the base id and runtime dir flags, `--json`, and one
 * way of ending in failure (a stable code on stderr, or `{ok:false, error}` with --json, and
 * the code's documented exit status).
 */
export abstract class ProxyctlCommand extends Command {
  static override enableJsonFlag = true;

  static override baseFlags = {
    'base-id': Flags.integer({
      description: 'Which proxyctl instance on this host (several can run side by side).',
      default: 0,
      min: 0,
      max: 65535,
      helpGroup: 'GLOBAL',
    }),
    'runtime-dir': Flags.string({
      description: 'Directory for sockets and the stats region. Default: $PROXYCTL_RUNTIME_DIR, then $XDG_RUNTIME_DIR/proxyctl, then /run/proxyctl (root) or /tmp/proxyctl-<uid>.',
      helpGroup: 'GLOBAL',
    }),
  };

  /** The runtime files of the base id chosen by the flags. */
  protected paths(flags: { 'base-id': number; 'runtime-dir'?: string | undefined }): BaseIdPaths {
    const runtimeDir = resolveRuntimeDir({ flag: flags['runtime-dir'], env: process.env, uid: process.getuid?.() ?? 0 });
    return baseIdPaths(runtimeDir, flags['base-id']);
  }

  protected override async catch(err: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<unknown> {
    if (err instanceof ProxyctlError) {
      if (this.jsonEnabled()) {
        this.logJson({ ok: false, error: err.toJSON() });
      } else if (err.code === 'PROXYCTL_ERR_CONFIG_INVALID') {
        // One `file:line:col: path: message` line per issue, the compiler-style form editors
        // jump to, without the `proxyctl: CODE:` prefix a single message gets.
        this.logToStderr(err.message);
      } else {
        this.logToStderr(`proxyctl: ${err.code}: ${err.message}`);
      }
      return this.exit(err.exitCode);
    }
    // oclif's own parse errors (unknown flag, bad value) are usage errors: exit 2.
    if (err.oclif?.exit !== undefined && err.oclif.exit !== 0 && err.name !== 'ExitError') {
      err.oclif.exit = ExitCode.USAGE;
    }
    return super.catch(err);
  }
}
