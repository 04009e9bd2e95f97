/**
 * The generated docs stay true: the committed JSON Schema and man pages equal what the
 * generators make now (so a new flag, key or error code fails here until `npm run man`), the
 * schema accepts every config shipped in the repo and refuses wrong ones, the pages name every
 * command, flag and key, and mandoc finds nothing to warn about.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { BASE_FLAGS, COMMAND_FLAGS } from '../src/cli/flag-spec.js';
import { ERROR_CODES } from '../src/errors.js';
import { manFiles, schemaFiles } from '../src/docs/pages.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');
const schema = JSON.parse(read('schema/proxyctl.schema.json')) as Record<string, unknown>;

test('the committed schema and man pages are what the generators make now (else: npm run build && npm run man)', () => {
  for (const [path, text] of Object.entries({ ...schemaFiles(), ...manFiles(ROOT) })) {
    assert.equal(read(path), text, `${path} is stale: run npm run build && npm run man, and commit it`);
  }
});

/** Every .yaml under the directories that hold example configs; bench's @PLACEHOLDERS@ filled in as its scripts do. */
function exampleConfigs(): Array<{ path: string; text: string }> {
  const found: string[] = [];
  const walk = (dir: string): void => {
    if (!existsSync(join(ROOT, dir))) return;
    for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name));
      else if (/\.ya?ml$/.test(e.name)) found.push(join(dir, e.name));
    }
  };
  for (const dir of ['config', 'examples', 'bench']) walk(dir);
  found.push('test/fixtures/config/full.yaml', 'test/fixtures/config/virtual-hosts.yaml');
  return found.map((path) => ({
    path,
    text: read(path).replace(/@([A-Z_]+)@/g, (_, name: string) => {
      if (name.endsWith('PORT')) return '8080';
      if (name.endsWith('TIME')) return '2s';
      throw new Error(`${path}: unknown placeholder @${name}@`);
    }),
  }));
}

test('the JSON Schema accepts every config in the repo and refuses a wrong key, a wrong type and an unknown filter', () => {
  const validate = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true }).compile(schema);
  const configs = exampleConfigs();
  assert.ok(configs.some((c) => c.path === 'config/default.yaml') && configs.length >= 5, `too few configs found: ${configs.map((c) => c.path).join(', ')}`);
  for (const c of configs) assert.ok(validate(parse(c.text)), `${c.path}: ${JSON.stringify(validate.errors)}`);

  const good = { listeners: [{ name: 'web', address: '127.0.0.1:8080', protocol: 'http', routes: [{ match: { prefix: '/' }, directResponse: { status: 200 } }] }], drain: { drainTime: '2s' } };
  assert.ok(validate(good), JSON.stringify(validate.errors));
  const listener = good.listeners[0]!;
  const bad: Array<[string, unknown, string]> = [
    ['misspelt key', { ...good, listeners: [{ ...listener, adress: '127.0.0.1:8080' }] }, 'additionalProperties'],
    ['wrong type', { ...good, workers: 'two' }, 'type'],
    ['duration as a number', { ...good, drain: { drainTime: 30 } }, 'type'],
    ['value outside the enum', { ...good, listeners: [{ ...listener, protocol: 'udp' }] }, 'enum'],
    ['unknown HTTP filter', { ...good, listeners: [{ ...listener, httpFilters: [{ gzip: {} }] }] }, 'additionalProperties'],
    ['no listeners', { clusters: [] }, 'required'],
  ];
  for (const [what, config, keyword] of bad) {
    assert.equal(validate(config), false, `${what} was accepted`);
    assert.ok(validate.errors?.some((e) => e.keyword === keyword), `${what}: ${JSON.stringify(validate.errors)}`);
  }
});

/** The lines of the `.Ss` (or `.Sh`) named `title`, up to the next one. */
function section(page: string, macro: '.Sh' | '.Ss', title: string): string {
  const lines = page.split('\n');
  const start = lines.indexOf(`${macro} ${title}`);
  assert.notEqual(start, -1, `no "${macro} ${title}"`);
  const end = lines.findIndex((l, i) => i > start && (l.startsWith('.Sh ') || l.startsWith('.Ss ')));
  return lines.slice(start, end === -1 ? undefined : end).join('\n');
}

test('proxyctl.1 has every command with each of its flags, every global flag, and every error code under its exit status', () => {
  const page = read('man/proxyctl.1');
  for (const [command, flags] of Object.entries(COMMAND_FLAGS)) {
    const entry = section(page, '.Ss', `proxyctl ${command.replace(/:/g, ' ')}`);
    for (const flag of Object.keys(flags)) assert.match(entry, new RegExp(`^\\.It Fl -${flag}( |$)`, 'm'), `${command} --${flag}`);
  }
  const description = section(page, '.Sh', 'DESCRIPTION');
  for (const flag of [...Object.keys(BASE_FLAGS), 'json']) assert.match(description, new RegExp(`^\\.It Fl -${flag}( |$)`, 'm'), `global --${flag}`);
  const exit = section(page, '.Sh', 'EXIT STATUS');
  for (const [code, status] of Object.entries(ERROR_CODES)) {
    const at = exit.indexOf(`.It Er ${code}\n`);
    assert.notEqual(at, -1, code);
    const statusLine = [...exit.slice(0, at).matchAll(/^\.It (\d+)$/gm)].at(-1)?.[1];
    assert.equal(Number(statusLine), status, `${code} is listed under exit ${statusLine}`);
  }
});

/** The parts of a JSON Schema node that the key walk reads. */
interface Node {
  $ref?: string;
  $defs?: Record<string, Node>;
  anyOf?: Node[];
  oneOf?: Node[];
  items?: Node;
  additionalProperties?: Node | boolean;
  properties?: Record<string, Node>;
}

/** Key paths of a schema node, `[]` for list items; $refs are listed in their own subsection. */
function keyPaths(n: Node, prefix: string, out: string[]): string[] {
  if (n.$ref !== undefined) return out;
  for (const alt of [...(n.anyOf ?? []), ...(n.oneOf ?? [])]) keyPaths(alt, prefix, out);
  if (n.items !== undefined) keyPaths(n.items, `${prefix}[]`, out);
  if (typeof n.additionalProperties === 'object') keyPaths(n.additionalProperties, `${prefix}.<name>`, out);
  for (const [k, v] of Object.entries((n.properties ?? {}) as Record<string, Node>)) {
    const path = prefix === '' ? k : `${prefix}.${k}`;
    out.push(path);
    keyPaths(v, path, out);
  }
  return out;
}

test('proxyctl.yaml.5 lists every key path of the schema, in the subsection of the shape that has it', () => {
  const page = read('man/proxyctl.yaml.5');
  const { $defs, ...root } = schema as Node;
  const shapes: Array<[string, Node]> = [['Top level', root], ...Object.entries(($defs ?? {}) as Record<string, Node>)];
  let count = 0;
  for (const [title, node] of shapes) {
    const sub = section(page, '.Ss', title);
    for (const path of keyPaths(node, '', [])) {
      count++;
      assert.ok(sub.includes(`\n.It Ic ${path}\n`), `${title}: ${path}`);
    }
  }
  assert.ok(count > 100, `only ${count} key paths`);
  for (const key of ['workers', 'listeners', 'clusters', 'drain', 'standby']) assert.ok(section(page, '.Ss', 'Top level').includes(`\n.It Ic ${key}\n`), key);
});

test('mandoc -Tlint -W warning finds nothing in either page', () => {
  for (const page of ['man/proxyctl.1', 'man/proxyctl.yaml.5']) {
    const r = spawnSync('mandoc', ['-Tlint', '-W', 'warning', join(ROOT, page)], { encoding: 'utf8', timeout: 10_000 });
    assert.equal(r.error, undefined, `mandoc: ${String(r.error)}`);
    assert.equal(`${r.stdout}${r.stderr}`, '', page);
    assert.equal(r.status, 0, page);
  }
});
