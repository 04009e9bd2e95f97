/**
 * proxyctl(1) from the command metadata: SYNOPSIS, COMMANDS (summary, description, each flag
 * with its default, examples) and the global flags from the oclif manifest (oclif.manifest.json,
 * which holds every command class's metadata, flags from src/cli/flag-spec.ts included), and
 * EXIT STATUS from src/errors.ts. The prose around them is man/src/proxyctl.1.in; its
 * `@@begin command NAME@@` blocks are notes placed in that command's entry.
 */
import { BASE_FLAGS, COMMAND_FLAGS, type FlagSpec } from '../cli/flag-spec.js';
import { ERROR_CODES, ExitCode } from '../errors.js';
import { arg, fill, literal, sentences, takeBlocks } from './mdoc.js';

export interface ManifestFlag {
  name: string;
  type: 'boolean' | 'option';
  description?: string;
  summary?: string;
  default?: unknown;
  helpGroup?: string;
  helpValue?: string;
  options?: string[];
  allowNo?: boolean;
  char?: string;
  hidden?: boolean;
}

export interface ManifestCommand {
  id: string;
  summary?: string;
  description?: string;
  examples?: Array<string | { command: string; description?: string }>;
  hidden?: boolean;
  flags: Record<string, ManifestFlag>;
  args: Record<string, { name: string; description?: string; required?: boolean }>;
}

export interface Manifest {
  commands: Record<string, ManifestCommand>;
}

/** What each exit status means; src/errors.ts maps every error code to one of them. */
const EXIT_MEANING: Readonly<Record<keyof typeof ExitCode, string>> = {
  OK: 'Success.',
  FAILURE: 'Any other failure.',
  USAGE: 'Usage error: an unknown flag, or a flag or argument with a bad value.',
  UNAVAILABLE: 'Nothing runs under that base id, or the supervisor is unreachable.',
  TEMPFAIL: 'A reload failed or timed out (the serving epoch serves on), the supervisor is stopping, or stop timed out.',
  CONFIG: 'Invalid or unreadable configuration.',
};

const words = (id: string): string[] => id.split(/[: ]/);

function visibleCommands(manifest: Manifest): ManifestCommand[] {
  return Object.values(manifest.commands)
    .filter((c) => c.hidden !== true)
    .sort((a, b) => a.id.localeCompare(b.id));
}

function specOf(command: string, flag: string): FlagSpec | undefined {
  const own = (COMMAND_FLAGS as Readonly<Record<string, Readonly<Record<string, FlagSpec>>>>)[command]?.[flag];
  return own ?? (BASE_FLAGS as Readonly<Record<string, FlagSpec>>)[flag];
}

function valueName(f: ManifestFlag, spec: FlagSpec | undefined): string {
  if (f.helpValue !== undefined) return f.helpValue.replace(/^<|>$/g, '');
  if (f.options !== undefined) return f.options.join('|');
  return spec?.kind === 'integer' ? 'n' : 'value';
}

/** `Fl -name Ar value`, the words of one flag in a macro line. */
function flagWords(f: ManifestFlag, spec: FlagSpec | undefined): string {
  const names = [...(f.char === undefined ? [] : [`Fl ${f.char}`]), `Fl -${f.name}`, ...(f.allowNo === true ? [`Fl -no-${f.name}`] : [])].join(' , ');
  return f.type === 'option' ? `${names} Ar ${arg(valueName(f, spec))}` : names;
}

function visibleFlags(c: ManifestCommand, global: boolean): ManifestFlag[] {
  return Object.values(c.flags).filter((f) => f.hidden !== true && (f.helpGroup === 'GLOBAL') === global);
}

function flagItem(command: string, f: ManifestFlag): string[] {
  const spec = specOf(command, f.name);
  const lines = [`.It ${flagWords(f, spec)}`, ...sentences(f.description ?? f.summary ?? '')];
  if (f.options !== undefined) lines.push('One of', `${f.options.map((o) => `.Ql ${arg(o)}`).join(' ,\n')} .`);
  if (spec?.kind === 'integer') lines.push(`From ${spec.min} to ${spec.max}.`);
  const value = f.default ?? spec?.default;
  if (f.type === 'boolean') lines.push(`Default: ${value === true ? 'on' : 'off'}.`);
  else if (value !== undefined) lines.push('Default:', `.Ql ${arg(String(value))} .`);
  return lines;
}

function example(e: string | { command: string; description?: string }): string {
  const command = typeof e === 'string' ? e : e.command;
  return `$ ${command.replace(/<%= config\.bin %>/g, 'proxyctl')}`;
}

function synopsis(commands: readonly ManifestCommand[]): string[] {
  const lines: string[] = [];
  for (const c of commands) {
    lines.push('.Nm', `.Cm ${words(c.id).join(' ')}`);
    for (const f of visibleFlags(c, false)) lines.push(`.Op ${flagWords(f, specOf(c.id, f.name))}`);
    for (const a of Object.values(c.args)) lines.push(a.required === true ? `.Ar ${arg(a.name)}` : `.Op Ar ${arg(a.name)}`);
  }
  const first = commands[0];
  if (first !== undefined) {
    const global = visibleFlags(first, true).map((f) => `.Op ${flagWords(f, specOf(first.id, f.name))}`);
    lines.push('.Pp', 'Every command also takes', ...global.slice(0, -1), `${global.at(-1) ?? ''} .`);
  }
  return lines;
}

function commandEntry(c: ManifestCommand, notes: readonly string[] | undefined): string[] {
  const lines = [`.Ss ${['proxyctl', ...words(c.id)].join(' ')}`, ...sentences(c.summary ?? '')];
  if (c.description !== undefined) lines.push(...sentences(c.description));
  if (notes !== undefined) lines.push('.Pp', ...notes);
  const args = Object.values(c.args);
  const flags = visibleFlags(c, false);
  if (args.length + flags.length > 0) {
    lines.push('.Bl -tag -width Ds');
    for (const a of args) lines.push(`.It Ar ${arg(a.name)}`, ...sentences(a.description ?? ''), a.required === true ? 'Required.' : 'Optional.');
    for (const f of flags) lines.push(...flagItem(c.id, f));
    lines.push('.El');
  }
  const examples = c.examples ?? [];
  if (examples.length > 0) lines.push('.Pp', examples.length === 1 ? 'Example:' : 'Examples:', ...literal(examples.map(example)));
  return lines;
}

/** The JSDoc line above each code in src/errors.ts: the registry's meaning of the code. */
function errorDocs(errorsSource: string): Map<string, string> {
  const docs = new Map<string, string>();
  for (const m of errorsSource.matchAll(/\/\*\*((?:[^*]|\*(?!\/))*)\*\/\s*(PROXYCTL_ERR_[A-Z0-9_]+)\s*:/g)) {
    docs.set(m[2] as string, (m[1] as string).replace(/^\s*\*\s?/gm, ' ').replace(/`/g, '').trim());
  }
  return docs;
}

function exitStatus(errorsSource: string): string[] {
  const docs = errorDocs(errorsSource);
  const lines = ['.Bl -tag -width Ds'];
  for (const [name, status] of Object.entries(ExitCode) as Array<[keyof typeof ExitCode, number]>) {
    lines.push(`.It ${status}`, ...sentences(EXIT_MEANING[name]));
    const codes = Object.entries(ERROR_CODES).filter(([, s]) => s === status);
    if (codes.length === 0) continue;
    lines.push('.Bl -tag -width Ds');
    for (const [code] of codes) lines.push(`.It Er ${code}`, ...sentences(docs.get(code) ?? ''));
    lines.push('.El');
  }
  lines.push('.El');
  return lines;
}

export interface CliPageInput {
  template: string;
  manifest: Manifest;
  /** The text of src/errors.ts, for the meaning of each code. */
  errorsSource: string;
}

export function cliPage({ template, manifest, errorsSource }: CliPageInput): string {
  const { rest, blocks } = takeBlocks(template, 'command');
  const commands = visibleCommands(manifest);
  for (const name of blocks.keys()) {
    if (!commands.some((c) => c.id === name)) throw new Error(`man/src/proxyctl.1.in has notes for "${name}", which is not a command`);
  }
  const first = commands[0];
  const sections = {
    SYNOPSIS: synopsis(commands),
    COMMANDS: commands.flatMap((c) => commandEntry(c, blocks.get(c.id))),
    'GLOBAL FLAGS': first === undefined ? [] : ['.Bl -tag -width Ds', ...visibleFlags(first, true).flatMap((f) => flagItem(first.id, f)), '.El'],
    'EXIT STATUS': exitStatus(errorsSource),
  };
  return fill(rest, sections, '.\\" Generated by scripts/gen-man.js from man/src/proxyctl.1.in and the command metadata: edit those, then run npm run man.');
}
