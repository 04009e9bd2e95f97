import type { core } from 'zod';
import type { ConfigIssue } from './types.js';

/** A path into the document, as zod and the cross-checks give it: keys and array indexes. */
export type IssuePath = readonly (string | number)[];

/**
 * A problem found before positions are known. `at: 'key'` points at the key itself (an
 * unknown key); `'value'` at the value, or at the enclosing mapping when the key is missing.
 */
export interface PathIssue {
  readonly path: IssuePath;
  readonly message: string;
  readonly at: 'key' | 'value';
}

const PLAIN_KEY = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/** `listeners[0].routes[1].cluster`; odd keys are quoted (`admin["a.b"]`); the root is `(root)`. */
export function formatPath(path: IssuePath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (PLAIN_KEY.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out === '' ? '(root)' : out;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters it escapes
const CONTROL = /[\u0000-\u001f\u007f\u2028\u2029]/g;

/**
 * `message` with control characters and line separators escaped (`\r`, `\u0000`). Messages quote
 * values from the file (`"30s\r" is not a duration`), and an issue must stay one line of the
 * error message and of the CLI's output.
 */
export function oneLine(message: string): string {
  return message.replace(CONTROL, (c) => (c < '\u0080' ? JSON.stringify(c).slice(1, -1) : `\\u${c.charCodeAt(0).toString(16)}`));
}

/** One line per issue, as the CLI prints them and the error message carries them. */
export function formatIssue(i: ConfigIssue): string {
  return `${i.file}:${i.line}:${i.col}: ${i.path}: ${i.message}`;
}

/** A sorted copy: by line, then column. */
export function byPosition(issues: readonly ConfigIssue[]): ConfigIssue[] {
  return [...issues].sort((a, b) => a.line - b.line || a.col - b.col);
}

/** Turns one zod issue into ours: one issue per unknown key, and plain words for a missing key. */
export function fromZod(issue: core.$ZodIssue, raw: unknown): PathIssue[] {
  const path = issue.path.filter((seg): seg is string | number => typeof seg !== 'symbol');
  if (issue.code === 'unrecognized_keys') {
    // JSON-quoted: a key may hold a newline (`"a\nb": 1`), and an issue is one line.
    return issue.keys.map((key) => ({ path: [...path, key], message: `unknown key ${JSON.stringify(key)}`, at: 'key' as const }));
  }
  const last = path[path.length - 1];
  if (typeof last === 'string' && !hasKey(valueAt(raw, path.slice(0, -1)), last)) {
    return [{ path, message: `missing required key "${last}"`, at: 'value' }];
  }
  return [{ path, message: issue.message, at: 'value' }];
}

function valueAt(raw: unknown, path: IssuePath): unknown {
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
