import { Command } from '@oclif/core';
import { ProxyctlError } from '../errors.js';
import type { BaseIdPaths } from '../runtime-dir.js';
import { paintForStream } from './colour.js';
import { BASE_FLAGS } from './flag-spec.js';
import { oclifFlags } from './oclif-flags.js';
import { bugJson, errorJson, errorText, humanLines, successJson, type CommandResult } from './output.js';
import { commandPaths } from './paths.js';
import { progressOn, type Progress } from './progress.js';

/**
 * What every proxyctl command shares: the base id, runtime dir and --no-color flags, `--json`
 * with one envelope (`{ok, command, …}`, src/cli/output.ts), and one way of ending in failure
 * (a stable code on stderr, or `{ok:false, command, error}` with --json, and the code's
 * documented exit status).
 */
export abstract class ProxyctlCommand extends Command {
  static override enableJsonFlag = true;

  static override baseFlags = oclifFlags(BASE_FLAGS);

  /** The runtime files of the base id chosen by the flags. */
  protected paths(flags: { 'base-id': number; 'runtime-dir'?: string | undefined }): BaseIdPaths {
    return commandPaths(flags);
  }

  /** The progress line on stderr, or null (not a terminal, TERM=dumb, --json). */
  protected progress(): Progress | null {
    return progressOn(process.stderr, process.env, this.jsonEnabled());
  }

  /** Prints the human lines of `result` unless --json (coloured as src/cli/colour.ts decides), and returns its JSON for oclif to print. */
  protected async finish<J>(result: CommandResult<J>, flags: { 'no-color': boolean } = { 'no-color': this.argv.includes('--no-color') }): Promise<J> {
    if (!this.jsonEnabled()) {
      const paint = await paintForStream(process.stdout, process.env, flags['no-color']);
      for (const line of humanLines(result, paint)) this.log(line);
    }
    return result.json;
  }

  /** Every success document in the envelope, first `ok` and `command`. */
  protected override toSuccessJson(result: unknown): unknown {
    return successJson(this.id ?? '', typeof result === 'object' && result !== null ? result : {});
  }

  /** A failure that is not ours (a bug), as oclif shows it, in the envelope. */
  protected override toErrorJson(err: unknown): unknown {
    return bugJson(err, this.id ?? '');
  }

  protected override async catch(err: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<unknown> {
    const ours = err instanceof ProxyctlError ? err : usageError(err);
    if (ours === null) return super.catch(err);
    if (this.jsonEnabled()) this.logJson(errorJson(ours, this.id ?? ''));
    // Flags may not have parsed (this may be the usage error), so --no-color is read from argv.
    else this.logToStderr(errorText(ours, await paintForStream(process.stderr, process.env, this.argv.includes('--no-color'))));
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
