import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { ProxyctlError, errnoCode } from '../errors.js';
import { accessLogChecks } from './access-log-checks.js';
import { crossCheck } from './cross-checks.js';
import { byPosition, formatIssue, fromZod, type PathIssue } from './issue.js';
import { parseYaml, positioned } from './positions.js';
import { configFileSchema, normalize } from './schema.js';
import { attachTls } from './tls-files.js';
import type { ConfigIssue, LoadedConfig, ParseOptions, ProxyConfig } from './types.js';

export { formatIssue } from './issue.js';

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
  const yaml = parseYaml(text, sourceName);
  if (!yaml.ok) fail(yaml.issues);
  const { doc, lines, raw } = yaml;
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

function fail(issues: ConfigIssue[]): never {
  const sorted = byPosition(issues);
  throw new ProxyctlError('PROXYCTL_ERR_CONFIG_INVALID', sorted.map(formatIssue).join('\n'), { errors: sorted });
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
