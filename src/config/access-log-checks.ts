import { accessSync, constants, statSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { PathIssue } from './issue.js';

/**
 * What the schema cannot see about `listeners[].accessLog`: an entry gives `format` or `json`,
 * not both, and its file can be opened for appending: the directory exists (proxyctl creates
 * files, never directories), the path is not a directory, and it is writable. Run at
 * `validate`, at start and at every reload, so a reload onto a missing directory is refused
 * before any epoch starts. Reads the raw document like cross-checks.ts.
 */
export function accessLogChecks(raw: unknown, baseDir: string): PathIssue[] {
  const issues: PathIssue[] = [];
  if (!isRecord(raw) || !Array.isArray(raw.listeners)) return issues;
  raw.listeners.forEach((l, i) => {
    if (!isRecord(l) || !Array.isArray(l.accessLog)) return;
    l.accessLog.forEach((e, j) => {
      if (!isRecord(e)) return;
      const at = (key: string): (string | number)[] => ['listeners', i, 'accessLog', j, key];
      if (e.format !== undefined && e.json !== undefined) issues.push({ path: at('json'), message: 'give either "format" or "json", not both', at: 'key' });
      if (typeof e.path === 'string' && e.path !== '') {
        const problem = unwritable(resolve(baseDir, e.path));
        if (problem !== null) issues.push({ path: at('path'), message: problem, at: 'value' });
      }
    });
  });
  return issues;
}

/** Why `path` cannot be opened for appending, or null. */
function unwritable(path: string): string | null {
  const dir = dirname(path);
  const dirStat = statOrNull(dir);
  if (dirStat === null) return `directory ${dir} does not exist (proxyctl creates the log file, not its directory)`;
  if (!dirStat.isDirectory()) return `${dir} is not a directory`;
  const fileStat = statOrNull(path);
  if (fileStat?.isDirectory() === true) return `${path} is a directory`;
  try {
    accessSync(fileStat === null ? dir : path, constants.W_OK);
  } catch {
    return fileStat === null ? `cannot create files in ${dir} (no write permission)` : `${path} is not writable`;
  }
  return null;
}

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
