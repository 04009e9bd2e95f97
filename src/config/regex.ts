/**
 * Regexes in the config (route `match.regex`, header and query parameter `regex`,
 * `regexRewrite.pattern`) are JavaScript RegExps, compiled with no flags.
 *
 * They are NOT linear-time: V8's engine backtracks, so a pattern such as `(a+)+$` can take
 * exponential time on a crafted path or header. The length cap below limits how much a
 * pattern can hide, not how long it runs; whoever writes the config owns that risk, the same
 * as with any backtracking engine. Prefer `prefix`/`path`/`exact` matchers where they do.
 *
 * Flags are refused: there is no `flags` key, and inline modifier groups such as `(?i:...)`
 * (which newer engines accept) are refused so the same file means the same on every Node.
 */

/** The longest pattern accepted, in UTF-16 code units. */
export const MAX_REGEX_LENGTH = 512;

/** `(?i)`, `(?i:`, `(?-m:` ... not preceded by a backslash. */
const INLINE_FLAGS = /(?<!\\)\(\?[A-Za-z-]+[:)]/;

/** Why `src` cannot be used as a config regex, or null when it can. */
export function regexProblem(src: string): string | null {
  if (src.length === 0) return 'must not be empty';
  if (src.length > MAX_REGEX_LENGTH) return `is ${src.length} characters long; at most ${MAX_REGEX_LENGTH} are allowed`;
  if (INLINE_FLAGS.test(src)) return 'inline flags such as (?i) are not supported: regexes are compiled with no flags';
  try {
    new RegExp(src);
  } catch (err: unknown) {
    return `is not a valid JavaScript regular expression: ${err instanceof Error ? err.message : String(err)}`;
  }
  return null;
}
