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
