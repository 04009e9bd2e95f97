/**
 * How a command's outcome is printed, shared by the oclif commands (src/cli/base-command.ts)
 * and the fast path (src/cli/fast-path.ts) so both print the same bytes.
 */
import type { ProxyctlError } from '../errors.js';

/** A command's outcome: the `--json` document, and the lines printed without `--json`. */
export interface CommandResult<J> {
  json: J;
  human: string[];
}

/** The `--json` form of a failure: `{ok:false, error:{code, message, details}}` on stdout. */
export function errorJson(err: ProxyctlError): { ok: false; error: ReturnType<ProxyctlError['toJSON']> } {
  return { ok: false, error: err.toJSON() };
}

/** The human form of a failure, for stderr: `proxyctl: CODE: message`. */
export function errorText(err: ProxyctlError): string {
  // An invalid config prints one `file:line:col: path: message` line per issue, the
  // compiler-style form editors jump to, without the `proxyctl: CODE:` prefix.
  if (err.code === 'PROXYCTL_ERR_CONFIG_INVALID') return err.message;
  return `proxyctl: ${err.code}: ${err.message}`;
}
