/**
 * The fast path's argv parser: it accepts only argv whose meaning under oclif is certain, and
 * answers null for anything else, so that oclif parses it (and prints its own help or usage
 * error). It reads the flags from src/cli/flag-spec.ts, the table the oclif classes are built
 * from. Pure: test/cli-fast-path.test.ts checks it against oclif.
 *
 * Accepted: the command id first, then only `--json` and the command's own and base flags,
 * as `--name value` or `--name=value` (options) or `--name` (booleans), each at most once,
 * with a value that is non-empty, does not start with `-`, and (integers) is digits within the
 * flag's bounds. Not accepted, so left to oclif: `-h`, `--help`, `--version`, short flags,
 * `--no-*` negations, `--`, positional arguments, unknown or repeated flags, and any value oclif would
 * refuse or might read differently. `--no-color` is a base flag of its own (a boolean named so),
 * not the negation of a `--color`, so both paths take it as it is.
 */
import { BASE_FLAGS, COMMAND_FLAGS, type CommandFlags, type FlagSpec } from './flag-spec.js';

/** The commands the fast path runs: the ones scripts call in loops. */
export const FAST_COMMANDS = ['status', 'reload', 'drain', 'stop', 'stats'] as const;
export type FastCommand = (typeof FAST_COMMANDS)[number];

export type FastInvocation = { [C in FastCommand]: { command: C; flags: CommandFlags<C>; json: boolean } }[FastCommand];

const DIGITS = /^\d+$/;

function isFastCommand(id: string | undefined): id is FastCommand {
  return (FAST_COMMANDS as readonly (string | undefined)[]).includes(id);
}

/** The value of an option flag, or undefined when oclif should judge it. */
function optionValue(spec: FlagSpec, raw: string | undefined): string | number | undefined {
  if (raw === undefined || raw === '' || raw.startsWith('-')) return undefined;
  if (spec.kind === 'string') return raw;
  if (spec.kind !== 'integer' || !DIGITS.test(raw)) return undefined;
  const n = Number.parseInt(raw, 10);
  return n >= spec.min && n <= spec.max ? n : undefined;
}

/** The invocation `argv` (process.argv without node and the script) means, or null: let oclif decide. */
export function parseFastArgv(argv: readonly string[]): FastInvocation | null {
  const [id, ...rest] = argv;
  if (!isFastCommand(id)) return null;
  const specs: Readonly<Record<string, FlagSpec>> = { ...BASE_FLAGS, ...COMMAND_FLAGS[id] };
  const given = new Map<string, string | number | boolean>();
  let json = false;
  for (let i = 0; i < rest.length; i++) {
    const token = rest[i]!;
    if (!token.startsWith('--') || token.length === 2) return null;
    const eq = token.indexOf('=');
    const name = token.slice(2, eq === -1 ? undefined : eq);
    if (name === 'json') {
      if (json || eq !== -1) return null;
      json = true;
      continue;
    }
    const spec = Object.hasOwn(specs, name) ? specs[name]! : undefined;
    if (spec === undefined || given.has(name)) return null;
    if (spec.kind === 'boolean') {
      if (eq !== -1) return null;
      given.set(name, true);
      continue;
    }
    const value = optionValue(spec, eq === -1 ? rest[++i] : token.slice(eq + 1));
    if (value === undefined) return null;
    given.set(name, value);
  }
  const flags: Record<string, string | number | boolean | undefined> = {};
  for (const [name, spec] of Object.entries(specs)) flags[name] = given.has(name) ? given.get(name) : spec.default;
  return { command: id, flags, json } as FastInvocation;
}
