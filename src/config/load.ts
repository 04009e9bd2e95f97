import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument, type Document } from 'yaml';
import type { core } from 'zod';
import { ProxyctlError, errnoCode } from '../errors.js';
import { accessLogChecks } from './access-log-checks.js';
import { crossCheck } from './cross-checks.js';
import { formatPath, type PathIssue } from './issue.js';
import { locate } from './positions.js';
import { configFileSchema, normalize } from './schema.js';
import { attachTls } from './tls-files.js';
import type { ConfigIssue, LoadedConfig, ParseOptions, ProxyConfig } from './types.js';

/**
 * Reads and validates a config file.
 * @throws ProxyctlError `PROXYCTL_ERR_CONFIG_READ` when the file cannot be read, or
 *   `PROXYCTL_ERR_CONFIG_INVALID` (see {@link parseConfig}).
 */
export async function loadConfigFile(path: string, options: ParseOptions = {}): Promise<LoadedConfig> {
  return parseConfig(await readConfigText(path), path, options);
}

/** The file's text. @throws ProxyctlError `PROXYCTL_ERR_CONFIG_READ` (`details.errno` says why). */
export async function readConfigText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err: unknown) {
    const errno = errnoCode(err);
    throw new ProxyctlError('PROXYCTL_ERR_CONFIG_READ', `cannot read config file ${path}: ${errno ?? String(err)}`, { path, errno }, { cause: err });
  }
}

/**
 * Parses and validates config text. `sourceName` is the file name used in error positions.
 * Every problem is collected, not just the first.
 * @returns the normalized config, deeply frozen, with its content hash.
 * @throws ProxyctlError `PROXYCTL_ERR_CONFIG_INVALID`, whose `details.errors` is a
 *   `ConfigIssue[]` sorted by position and whose message is one `file:line:col: path: message`
 *   line per issue.
 */
export function parseConfig(text: string, sourceName: string, options: ParseOptions = {}): LoadedConfig {
  const lines = new LineCounter();
  // prettyErrors would fold a source excerpt into each message; positions are added here instead.
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  // Warnings (an unresolved tag, an odd directive) are errors here: a config means one thing.
  const syntax = [...doc.errors, ...doc.warnings];
  if (syntax.length > 0) {
    fail(syntax.map((e) => ({ file: sourceName, ...lines.linePos(e.pos[0]), path: '(yaml)', message: e.message })));
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (err: unknown) {
    // Only the alias limit (a "billion laughs" document) gets here.
    fail([{ file: sourceName, line: 1, col: 1, path: '(yaml)', message: err instanceof Error ? err.message : String(err) }]);
  }
  if (raw === null || raw === undefined) {
    fail([{ file: sourceName, line: 1, col: 1, path: '(root)', message: 'the config is empty: at least "listeners" is required' }]);
  }
  const parsed = configFileSchema.safeParse(raw);
  const found: PathIssue[] = parsed.success ? [] : parsed.error.issues.flatMap((i) => fromZod(i, raw));
  // Relative paths in the file (access logs) are relative to the file, not to our cwd.
  const baseDir = dirname(resolve(sourceName));
  found.push(...crossCheck(raw), ...accessLogChecks(raw, baseDir));
  if (!parsed.success || found.length > 0) fail(positioned(found, doc, lines, sourceName));

  // Files named by `tls` keys are read last, and only for a config that is otherwise sound.
  const tls = attachTls(normalize(parsed.data, options.cpus ?? availableParallelism(), baseDir), parsed.data, baseDir);
  if (tls.issues.length > 0) fail(positioned(tls.issues, doc, lines, sourceName));
  const config = deepFreeze(tls.config);
  return Object.freeze({ config, hash: configHash(config), source: sourceName });
}

/** First 12 hex digits of the SHA-256 of the config's JSON: short enough to log, long enough to tell configs apart. */
export function configHash(config: ProxyConfig): string {
  return createHash('sha256').update(JSON.stringify(config)).digest('hex').slice(0, 12);
}

/** One line per issue, as the CLI prints them and the error message carries them. */
export function formatIssue(i: ConfigIssue): string {
  return `${i.file}:${i.line}:${i.col}: ${i.path}: ${i.message}`;
}

function fail(issues: ConfigIssue[]): never {
  const sorted = [...issues].sort((a, b) => a.line - b.line || a.col - b.col);
  throw new ProxyctlError('PROXYCTL_ERR_CONFIG_INVALID', sorted.map(formatIssue).join('\n'), { errors: sorted });
}

function positioned(found: PathIssue[], doc: Document, lines: LineCounter, file: string): ConfigIssue[] {
  const seen = new Set<string>();
  const out: ConfigIssue[] = [];
  for (const f of found) {
    const issue = { file, ...locate(doc, lines, f.path, f.at), path: formatPath(f.path), message: f.message };
    const key = `${issue.path}\0${issue.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(issue);
  }
  return out;
}

/** Turns one zod issue into ours: one issue per unknown key, and plain words for a missing key. */
function fromZod(issue: core.$ZodIssue, raw: unknown): PathIssue[] {
  const path = issue.path.filter((seg): seg is string | number => typeof seg !== 'symbol');
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({ path: [...path, key], message: `unknown key "${key}"`, at: 'key' as const }));
  }
  const last = path[path.length - 1];
  if (typeof last === 'string' && !hasKey(valueAt(raw, path.slice(0, -1)), last)) {
    return [{ path, message: `missing required key "${last}"`, at: 'value' }];
  }
  return [{ path, message: issue.message, at: 'value' }];
}

function valueAt(raw: unknown, path: readonly (string | number)[]): unknown {
  let v = raw;
  for (const seg of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<string | number, unknown>)[seg];
  }
  return v;
}

function hasKey(container: unknown, key: string): boolean {
  return typeof container === 'object' && container !== null && Object.hasOwn(container, key);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
