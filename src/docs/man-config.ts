/**
 * The KEY REFERENCE of proxyctl.yaml(5), from the JSON Schema (src/docs/json-schema.ts): every
 * key path with its type, whether it is required, its default, allowed values and description.
 * A schema with an id (`.meta({ id })`, shared by several keys) gets a subsection of its own,
 * which the keys that hold it point to. The prose of the page is man/src/proxyctl.yaml.5.in.
 */
import { arg, fill, sentences } from './mdoc.js';

type Node = Record<string, unknown>;

export interface KeyEntry {
  path: string;
  node: Node;
  required: boolean;
}

const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && !Array.isArray(v);

const refName = (ref: string): string => ref.replace(/^#\/\$defs\//, '');

function alternatives(n: Node): Node[] {
  const alts = (n.anyOf ?? n.oneOf) as unknown;
  return Array.isArray(alts) ? alts.filter(isNode) : [];
}

/**
 * Every key under `n`, depth first, as `a.b[].c`: `[]` for the items of a list, `<name>` for
 * the values of a mapping with free keys. A `$ref` is not followed (its keys are listed in its
 * own subsection). test/docs.test.ts walks the schema with its own code, so a key this rule
 * skipped would still fail the test.
 */
function keyEntries(n: Node, prefix = ''): KeyEntry[] {
  if (typeof n.$ref === 'string') return [];
  const out: KeyEntry[] = [];
  for (const alt of alternatives(n)) out.push(...keyEntries(alt, prefix));
  if (isNode(n.items)) out.push(...keyEntries(n.items, `${prefix}[]`));
  if (isNode(n.additionalProperties)) out.push(...keyEntries(n.additionalProperties, `${prefix}.<name>`));
  const required = new Set(Array.isArray(n.required) ? n.required : []);
  if (isNode(n.properties)) {
    for (const [key, child] of Object.entries(n.properties)) {
      if (!isNode(child)) continue;
      const path = prefix === '' ? key : `${prefix}.${key}`;
      out.push({ path, node: child, required: required.has(key) }, ...keyEntries(child, path));
    }
  }
  // The same key in two alternatives (an endpoint's `address`) is listed once.
  return out.filter((e, i) => out.findIndex((o) => o.path === e.path) === i);
}

function typeOf(n: Node): string {
  if (typeof n.$ref === 'string') return refName(n.$ref);
  if (n.const !== undefined) return JSON.stringify(n.const);
  if (typeof n.title === 'string') return n.title;
  const alts = alternatives(n);
  if (alts.length > 0) return [...new Set(alts.map(typeOf))].join(' or ');
  if (n.type === 'array') return isNode(n.items) ? `list of ${typeOf(n.items)}` : 'list';
  if (n.type === 'object') return 'mapping';
  if (n.type === 'integer') return 'integer';
  return typeof n.type === 'string' ? n.type : 'any';
}

// z.int() bounds every integer by the safe-integer range; that says nothing to a reader.
const bound = (v: unknown): unknown => (typeof v === 'number' && Math.abs(v) >= Number.MAX_SAFE_INTEGER ? undefined : v);

function range(n: Node): string | null {
  const min = bound(n.minimum) ?? n.exclusiveMinimum;
  const max = bound(n.maximum) ?? n.exclusiveMaximum;
  if (typeof min === 'number' && typeof max === 'number' && n.exclusiveMinimum === undefined && n.exclusiveMaximum === undefined) return `From ${min} to ${max}.`;
  if (typeof n.exclusiveMinimum === 'number') return `More than ${n.exclusiveMinimum}.`;
  if (typeof min === 'number') return `At least ${min}.`;
  if (typeof max === 'number') return `At most ${max}.`;
  if (typeof n.minItems === 'number' && n.minItems > 0) return `At least ${n.minItems} ${n.minItems === 1 ? 'entry' : 'entries'}.`;
  return null;
}

function entryLines(e: KeyEntry): string[] {
  const n = e.node;
  const type = typeOf(n);
  const ref = typeof n.$ref === 'string' ? refName(n.$ref) : isNode(n.items) && typeof n.items.$ref === 'string' ? refName(n.items.$ref) : null;
  const lines = [`.It Ic ${arg(e.path)}`];
  if (ref === null) lines.push(`${type}${e.required ? ', required' : ''}.`);
  else lines.push(type === ref ? 'A' : 'A list of', `.Sx ${ref}`, `(below)${e.required ? ', required' : ''}.`);
  if (Array.isArray(n.enum)) lines.push('One of', `${n.enum.map((v) => `.Ql ${arg(String(v))}`).join(' ,\n')} .`);
  const r = range(n);
  if (r !== null) lines.push(r);
  if (n.default !== undefined) lines.push('Default:', `.Ql ${arg(typeof n.default === 'string' ? n.default : JSON.stringify(n.default))} .`);
  // A shape's own description opens its subsection; here only what this key adds.
  if (typeof n.description === 'string') lines.push(...sentences(n.description));
  return lines;
}

function subsection(title: string, n: Node): string[] {
  const lines = [`.Ss ${title}`];
  if (typeof n.description === 'string') lines.push(...sentences(n.description));
  const entries = keyEntries(n);
  if (entries.length === 0) return lines;
  return [...lines, '.Bl -tag -width Ds', ...entries.flatMap(entryLines), '.El'];
}

function keyReference(schema: Node): string[] {
  const defs = (isNode(schema.$defs) ? schema.$defs : {}) as Record<string, Node>;
  const { $defs: _, description: __, ...root } = schema;
  return [...subsection('Top level', root), ...Object.entries(defs).flatMap(([name, def]) => subsection(name, def))];
}

export function configPage(template: string, schema: Node): string {
  return fill(template, { 'KEY REFERENCE': keyReference(schema) }, '.\\" Generated by scripts/gen-man.js from man/src/proxyctl.yaml.5.in and the JSON Schema: edit those (or the zod schema), then run npm run man.');
}
