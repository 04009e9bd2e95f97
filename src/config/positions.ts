import { isMap, isNode, isPair, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';
import type { IssuePath } from './issue.js';

export interface Position {
  readonly line: number;
  readonly col: number;
}

/**
 * Finds where a path points in the parsed document, 1-based. It walks as far as the path
 * exists: a missing key therefore lands on the mapping that should have held it, and a value
 * on the value node. With `at: 'key'`, the last step lands on the key instead (unknown keys).
 * A path that cannot be walked at all (an empty file) lands on 1:1.
 */
export function locate(doc: Document, lines: LineCounter, path: IssuePath, at: 'key' | 'value'): Position {
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
