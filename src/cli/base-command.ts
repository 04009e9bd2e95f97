import { Command } from '@oclif/core';
import { ProxyctlError } from '../errors.js';
import type { BaseIdPaths } from '../runtime-dir.js';
import { BASE_FLAGS } from './flag-spec.js';
import { oclifFlags } from './oclif-flags.js';
import { errorJson, errorText, type CommandResult } from './output.js';
import { commandPaths } from './paths.js';

/**
 * What every proxyctl command shares: the base id and runtime dir flags, `--json`, and one
 * way of ending in failure (a stable code on stderr, or `{ok:false, error}` with --json, and
 * the code's documented exit status).
 */
export abstract class ProxyctlCommand extends Command {
  static override enableJsonFlag = true;

  static override baseFlags = oclifFlags(BASE_FLAGS);

  /** The runtime files of the base id chosen by the flags. */
  protected paths(flags: { 'base-id': number; 'runtime-dir'?: string | undefined }): BaseIdPaths {
    return commandPaths(flags);
  }

  /** Prints the human lines of `result` unless --json, and returns its JSON for oclif to print. */
  protected finish<J>(result: CommandResult<J>): J {
    if (!this.jsonEnabled()) for (const line of result.human) this.log(line);
    return result.json;
  }

  protected override async catch(err: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<unknown> {
    const ours = err instanceof ProxyctlError ? err : usageError(err);
    if (ours === null) return super.catch(err);
    if (this.jsonEnabled()) this.logJson(errorJson(ours));
    else this.logToStderr(errorText(ours));
    return this.exit(ours.exitCode);
  }
}

/**
 * oclif's own parse errors (unknown flag, bad value, missing argument) as PROXYCTL_ERR_USAGE,
 * so they print like every other failure (`proxyctl: CODE: message`, or `{ok:false, error}`
 * with --json) and exit 2. Null for anything else.
 */
function usageError(err: Error & { oclif?: { exit?: number }; flags?: unknown }): ProxyctlError | null {
  if (err.oclif?.exit === undefined || err.oclif.exit === 0 || err.name === 'ExitError') return null;
  const flags = Array.isArray(err.flags) && err.flags.every((f) => typeof f === 'string') ? { flags: err.flags } : {};
  return new ProxyctlError('PROXYCTL_ERR_USAGE', err.message, flags, { cause: err });
}
