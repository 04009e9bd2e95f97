/**
 * The config loader, parseConfig(text, sourceName), on mutated YAML built from the bundled and
 * fixture configs. Invariants:
 * - it returns a config or throws PROXYCTL_ERR_CONFIG_INVALID, nothing else;
 * - every issue has a path and a position inside the text (line within its lines, col within
 *   that line, or just past its end), and its message is one line;
 * - an accepted config hashes the same when parsed again, and when its data is written out again
 *   as JSON or as YAML and parsed;
 * - no document takes long: an alias bomb ("billion laughs") is refused within the bound.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { parseDocument, stringify } from 'yaml';
import { parseConfig } from '../../../src/config/load.js';
import type { ConfigIssue } from '../../../src/config/types.js';
import { ProxyctlError } from '../../../src/errors.js';
import { type FuzzTarget, invariant } from '../target.js';

const SOURCE = 'fuzz.yaml';
const OPTIONS = { cpus: 2 };
/** Generous for a shared 2-core machine; a bomb that expands takes seconds to minutes. */
const MAX_MS = 2000;

const root = new URL('../../../../', import.meta.url);
const BASES = ['config/default.yaml', 'test/fixtures/config/full.yaml', 'test/fixtures/config/virtual-hosts.yaml', 'test/fixtures/config/invalid.yaml'].map((p) => readFileSync(new URL(p, root), 'utf8'));

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const nested = (depth: number): Json => (depth === 0 ? 'x' : depth % 2 === 0 ? [nested(depth - 1)] : { a: nested(depth - 1) });
const weird: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(0, -1, 1.5, 2 ** 53, 2 ** 64, 1e21, -0, '', 'x'.repeat(300), '1.5s', '-1s', '0s', '99999999999h', true, null, [], {}, '127.0.0.1:99999', '[::1]:0', '0.0.0.0:80', 'http', 'tcp', '/', '*'),
  fc.string({ maxLength: 20 }),
  fc.integer(),
  fc.integer({ min: 1, max: 24 }).map(nested),
);

type Op = { op: 'set' | 'drop' | 'dup' | 'wrap'; pick: number; value: Json };
const op: fc.Arbitrary<Op> = fc.record({ op: fc.constantFrom('set', 'set', 'drop', 'dup', 'wrap'), pick: fc.nat(), value: weird });

type Slot = [Json[] | { [k: string]: Json }, string | number];

/** Every container slot in the tree: [parent, key]. */
function slots(v: Json, out: Slot[] = []): Slot[] {
  if (v === null || typeof v !== 'object') return out;
  for (const [k, c] of Array.isArray(v) ? v.entries() : Object.entries(v)) {
    out.push([v, k]);
    slots(c, out);
  }
  return out;
}

function apply(doc: Json, m: Op): Json {
  const all = slots(doc);
  if (all.length === 0) return m.value;
  const [parent, key] = all[m.pick % all.length] as [Record<string | number, Json>, string | number];
  if (m.op === 'set') parent[key] = m.value;
  else if (m.op === 'wrap') parent[key] = [parent[key] as Json];
  else if (m.op === 'drop') Array.isArray(parent) ? parent.splice(key as number, 1) : delete parent[key];
  else if (Array.isArray(parent)) parent.push(structuredClone(parent[key as number] as Json));
  else parent[`${key}_`] = structuredClone(parent[key] as Json);
  return doc;
}

/** Text-level twists that the tree cannot express. */
const TWISTS = ['none', 'none', 'crlf', 'bom', 'tabs', 'dupkey', 'anchor', 'collectionKey'] as const;
function twist(text: string, how: (typeof TWISTS)[number], n: number): string {
  const lines = text.split('\n');
  const at = n % Math.max(1, lines.length);
  switch (how) {
    case 'none':
      return text;
    case 'crlf':
      return text.replaceAll('\n', '\r\n');
    case 'bom':
      return `\uFEFF${text}`;
    case 'tabs':
      return lines.map((l, i) => (i === at ? l.replace(/^ +/, '\t') : l)).join('\n');
    case 'dupkey':
      return [...lines.slice(0, at + 1), lines[at] ?? '', ...lines.slice(at + 1)].join('\n');
    case 'anchor':
      return `x-base: &base { name: a, endpoints: [127.0.0.1:1] }\n${text.replace(/^clusters:\n/m, 'clusters:\n  - *base\n')}`;
    case 'collectionKey':
      return [...lines.slice(0, at), '? [k]', ': 1', ...lines.slice(at)].join('\n');
  }
}

const structured = fc
  .tuple(fc.constantFrom(...BASES), fc.array(op, { maxLength: 4 }), fc.constantFrom('block', 'flow', 'json'), fc.constantFrom(...TWISTS), fc.nat())
  .map(([base, ops, style, how, n]) => {
    const doc = ops.reduce(apply, parseDocument(base).toJS() as Json);
    const text = style === 'json' ? JSON.stringify(doc, null, 1) : stringify(doc, { collectionStyle: style === 'flow' ? 'flow' : 'block' });
    return Buffer.from(twist(text, how, n), 'utf8');
  });

/** A "billion laughs" document: `levels` anchors, each a list of `width` aliases of the one before. */
const aliasBomb = fc.tuple(fc.integer({ min: 2, max: 9 }), fc.integer({ min: 2, max: 10 }), fc.constantFrom('', 'listeners: ')).map(([levels, width, under]) => {
  const lines = ['a0: &a0 [lol]'];
  for (let i = 1; i <= levels; i++) lines.push(`a${i}: &a${i} [${Array(width).fill(`*a${i - 1}`).join(', ')}]`);
  lines.push(`${under === '' ? 'bomb: ' : under}*a${levels}`);
  return Buffer.from(lines.join('\n'), 'utf8');
});

function checkIssues(err: ProxyctlError, text: string): void {
  const errors = err.details.errors as ConfigIssue[] | undefined;
  invariant(Array.isArray(errors) && errors.length > 0, 'CONFIG_INVALID without issues');
  const lines = text.split('\n');
  for (const i of errors) {
    invariant(i.file === SOURCE, 'an issue names another file');
    invariant(typeof i.path === 'string' && i.path.length > 0, 'an issue without a path');
    invariant(!/[\r\n]/.test(i.message) && !/[\r\n]/.test(i.path), `an issue spans several lines: ${JSON.stringify(i.path)}: ${JSON.stringify(i.message)}`);
    invariant(Number.isInteger(i.line) && i.line >= 1 && i.line <= lines.length, `issue line ${i.line} outside 1..${lines.length}`);
    const len = (lines[i.line - 1] as string).length;
    invariant(Number.isInteger(i.col) && i.col >= 1 && i.col <= len + 1, `issue col ${i.col} outside line ${i.line} (${len} chars)`);
  }
  invariant(err.message.split('\n').length === errors.length, 'the message is not one line per issue');
}

function hashOf(text: string): string | undefined {
  try {
    return parseConfig(text, SOURCE, OPTIONS).hash;
  } catch (err: unknown) {
    if (err instanceof ProxyctlError && err.code === 'PROXYCTL_ERR_CONFIG_INVALID') return undefined;
    throw err;
  }
}

const target: FuzzTarget = {
  name: 'config-load',
  generate: fc.oneof({ arbitrary: structured, weight: 8 }, { arbitrary: aliasBomb, weight: 1 }),
  dictionary: ['\t', '\r\n', '\uFEFF', '&a ', '*a', '<<: *a\n', '? ', '!!str ', '!!binary ', '!unknown ', '%YAML 1.1\n', '---\n', '...\n', '.inf', '.nan', '1e400', '0x7fffffffffffffff', '~', '{', '[', '"', "'", '#', 'listeners:', 'clusters:', 'address: ', 'name: '],
  check(input) {
    const text = input.toString('utf8');
    const started = performance.now();
    let hash: string;
    // A process warning (yaml prints one for a key it had to stringify) is a problem the
    // operator would see on stderr with no position: the loader must say it as an issue.
    const emitWarning = process.emitWarning;
    let warning: string | null = null;
    process.emitWarning = (w: string | Error) => {
      warning = String(w);
    };
    try {
      hash = parseConfig(text, SOURCE, OPTIONS).hash;
    } catch (err: unknown) {
      if (!(err instanceof ProxyctlError) || err.code !== 'PROXYCTL_ERR_CONFIG_INVALID') throw err;
      checkIssues(err, text);
      return;
    } finally {
      process.emitWarning = emitWarning;
      invariant(warning === null, `a process warning instead of an issue: ${warning}`);
      const ms = performance.now() - started;
      invariant(ms < MAX_MS, `parseConfig took ${Math.round(ms)} ms`);
    }
    invariant(hashOf(text) === hash, 'the same text hashed differently twice');
    const data = parseDocument(text).toJS({ maxAliasCount: 100 }) as unknown;
    invariant(hashOf(JSON.stringify(data)) === hash, 'the config written out as JSON parses to another hash');
    invariant(hashOf(stringify(data)) === hash, 'the config written out as YAML parses to another hash');
  },
};
export default target;
