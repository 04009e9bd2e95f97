/**
 * How a command's outcome is printed, shared by the oclif commands (src/cli/base-command.ts)
 * and the fast path (src/cli/fast-path.ts) so both print the same bytes.
 *
 * Every `--json` document is one object that starts with `ok` and `command` (the command id):
 * on success the command's own fields follow, on failure `error: {code, message, details}`.
 * Within a major version fields are added, never renamed or removed (README, "JSON output").
 */
import type { ProxyctlError } from '../errors.js';
import { PLAIN, type Paint } from './paint.js';

/** A command's outcome: its own `--json` fields, and the lines printed without `--json`. */
export interface CommandResult<J> {
  json: J;
  /** The human lines: as they are (nothing in them is coloured), or styled with `paint` (PLAIN: no colour). */
  human: readonly string[] | ((paint: Paint) => string[]);
}

/** The lines to print of `result`, styled with `paint`. */
export function humanLines(result: CommandResult<unknown>, paint: Paint): readonly string[] {
  return typeof result.human === 'function' ? result.human(paint) : result.human;
}

/** The `--json` document of a success. */
export type Envelope<J> = { ok: true; command: string } & J;

export function successJson<J extends object>(command: string, json: J): Envelope<J> {
  return { ok: true, command, ...json };
}

/** The `--json` form of a failure: `{ok:false, command, error:{code, message, details}}` on stdout. */
export function errorJson(err: ProxyctlError, command: string): { ok: false; command: string; error: ReturnType<ProxyctlError['toJSON']> } {
  return { ok: false, command, error: err.toJSON() };
}

/**
 * The `--json` form of a failure that is not a ProxyctlError (a bug): oclif's own shape (the
 * error's own properties, its message and name) inside the envelope.
 */
export function bugJson(err: unknown, command: string): { ok: false; command: string; error: unknown } {
  return { ok: false, command, error: err instanceof Error ? { ...err, message: err.message, name: err.name } : err };
}

/** The human form of a failure, for stderr: `proxyctl: CODE: message`. */
export function errorText(err: ProxyctlError, paint: Paint = PLAIN): string {
  // An invalid config prints one `file:line:col: path: message` line per issue, the
  // compiler-style form editors jump to, without the `proxyctl: CODE:` prefix.
  if (err.code === 'PROXYCTL_ERR_CONFIG_INVALID') return err.message;
  return `${paint.errorLabel(err.code)} ${err.message}`;
}
