import { isAlias, isCollection, isMap, isNode, isPair, isScalar, isSeq, parseDocument, visit, type Document, type Node } from 'yaml';
import { formatPath, oneLine, type IssuePath, type PathIssue } from './issue.js';
import type { ConfigIssue } from './types.js';

export interface Position {
  readonly line: number;
  readonly col: number;
}

/**
 * Offsets to `line:col` from the text itself. yaml's LineCounter only hears of the newlines its
 * parser passes on, and in error recovery a token can swallow some (`Unexpected scalar token
 * ",\n  drain"`): every later position was then lines too early, columns past the line's end.
 */
export class TextLines {
  readonly #starts: number[] = [0];

  constructor(text: string) {
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) this.#starts.push(i + 1);
  }

  /** 1-based; an offset at a line's newline is one column past its end. */
  linePos(offset: number): Position {
    let lo = 0;
    let hi = this.#starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if ((this.#starts[mid] as number) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: Math.max(0, offset - (this.#starts[lo] as number)) + 1 };
  }
}

/** A YAML document with what positions need, or why it is not one. */
export type YamlParse =
  | { readonly ok: true; readonly doc: Document; readonly lines: TextLines; readonly raw: unknown }
  | { readonly ok: false; readonly issues: ConfigIssue[] };

/**
 * Parses YAML (JSON too) for a file whose problems are reported as `file:line:col`. Syntax
 * errors, warnings and a document past the alias limit are issues; an empty document is not
 * (`raw` is null): what emptiness means is the caller's to say.
 */
export function parseYaml(text: string, file: string): YamlParse {
  const lines = new TextLines(text);
  // prettyErrors would fold a source excerpt into each message; positions are added by the caller.
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  // Warnings (an unresolved tag, an odd directive) are errors here: a file means one thing.
  const syntax = [...doc.errors, ...doc.warnings];
  if (syntax.length > 0) {
    return { ok: false, issues: syntax.map((e) => ({ file, ...lines.linePos(e.pos[0]), path: '(yaml)', message: oneLine(e.message) })) };
  }
  const keys = collectionKeys(doc);
  if (keys.length > 0) return { ok: false, issues: keys.map((offset) => ({ file, ...lines.linePos(offset), path: '(yaml)', message: 'a mapping key must be a plain scalar, not a list, a mapping or a binary or timestamp value' })) };
  try {
    return { ok: true, doc, lines, raw: doc.toJS({ maxAliasCount: 100 }) };
  } catch (err: unknown) {
    // Only the alias limit (a "billion laughs" document) gets here.
    return { ok: false, issues: [{ file, line: 1, col: 1, path: '(yaml)', message: oneLine(err instanceof Error ? err.message : String(err)) }] };
  }
}

/**
 * Where keys that are lists or mappings (`? [a]: 1`, or an alias of one), or scalars whose value
 * is an object (`!!binary a: 1`), start. toJS would turn such a key into text, several lines
 * long for a collection, and say so with a process warning on stderr instead of a position; no
 * config key is any of these, so each is an issue.
 */
function collectionKeys(doc: Document): number[] {
  const offsets: number[] = [];
  visit(doc, {
    Pair(_, pair) {
      const key = isAlias(pair.key) ? pair.key.resolve(doc) : pair.key;
      // A scalar can be an object too: `!!binary` gives a Uint8Array, `!!timestamp` a Date.
      const objectScalar = isScalar(key) && typeof key.value === 'object' && key.value !== null;
      if ((isCollection(key) || objectScalar) && isNode(pair.key)) offsets.push(pair.key.range?.[0] ?? 0);
    },
  });
  return [...new Set(offsets)]; // a key nested in a key starts where it does
}

/** Issues found by path, placed in the document; the same path and message twice is one issue. */
export function positioned(found: readonly PathIssue[], doc: Document, lines: TextLines, file: string): ConfigIssue[] {
  const seen = new Set<string>();
  const out: ConfigIssue[] = [];
  for (const f of found) {
    const issue = { file, ...locate(doc, lines, f.path, f.at), path: formatPath(f.path), message: oneLine(f.message) };
    const key = `${issue.path}\0${issue.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(issue);
  }
  return out;
}

/**
 * Finds where a path points in the parsed document, 1-based. It walks as far as the path
 * exists: a missing key therefore lands on the mapping that should have held it, and a value
 * on the value node. With `at: 'key'`, the last step lands on the key instead (unknown keys).
 * A path that cannot be walked at all (an empty file) lands on 1:1.
 */
export function locate(doc: Document, lines: TextLines, path: IssuePath, at: 'key' | 'value'): Position {
  let node: Node | null = isNode(doc.contents) ? doc.contents : null;
  for (let i = 0; i < path.length && node !== null; i++) {
    const step = child(node, path[i], i === path.length - 1 && at === 'key');
    if (step === null) break;
    node = step.node;
    if (step.stop) break;
  }
  const offset = node?.range?.[0];
  return offset === undefined ? { line: 1, col: 1 } : lines.linePos(offset);
}

/** One step down; `stop` when the step had to settle for a key because the value is empty. */
function child(node: Node, seg: string | number | undefined, wantKey: boolean): { node: Node; stop: boolean } | null {
  if (isSeq(node)) {
    const item = typeof seg === 'number' ? node.items[seg] : undefined;
    return isNode(item) ? { node: item, stop: false } : null;
  }
  if (!isMap(node)) return null;
  const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
  if (pair === undefined || !isNode(pair.key)) return null;
  if (wantKey) return { node: pair.key, stop: true };
  // `key:` with nothing after it parses as an empty null scalar whose offset is wherever the
  // next token starts, often the following line: the key is the place the reader expects.
  if (!isNode(pair.value) || isEmptyScalar(pair.value)) return { node: pair.key, stop: true };
  return { node: pair.value, stop: false };
}

function isEmptyScalar(n: Node): boolean {
  return isScalar(n) && n.value === null && (n.range === undefined || n.range === null || n.range[0] === n.range[1]);
}
