import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ExitCode } from '../src/errors.js';
import { tempDir } from './helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin/run.js');
const FIXTURES = join(ROOT, 'test/fixtures/config');

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  json: unknown;
}

function proxyctl(args: string[]): Run {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  let json: unknown;
  try {
    json = JSON.parse(r.stdout);
  } catch {
    json = undefined;
  }
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, json };
}

interface ErrorJson {
  ok: false;
  error: { code: string; message: string; details: { errors: { file: string; line: number; col: number; path: string; message: string }[] } };
}

test('proxyctl validate accepts the bundled default config', () => {
  const human = proxyctl(['validate', 'config/default.yaml']);
  assert.equal(human.status, ExitCode.OK);
  assert.equal(human.stdout, 'config/default.yaml: ok\n');
  const json = proxyctl(['validate', 'config/default.yaml', '--json']);
  assert.equal(json.status, ExitCode.OK);
  const body = json.json as { ok: boolean; command: string; file: string; listeners: number; clusters: number; hash: string };
  assert.deepEqual({ ...body, hash: undefined }, { ok: true, command: 'validate', file: 'config/default.yaml', listeners: 1, clusters: 0, hash: undefined });
  assert.deepEqual(Object.keys(body).slice(0, 2), ['ok', 'command'], 'the envelope comes first');
  assert.match(body.hash, /^[0-9a-f]{12}$/);
});

test('proxyctl validate --json counts listeners and clusters of a valid file', () => {
  const r = proxyctl(['validate', join(FIXTURES, 'full.yaml'), '--json']);
  assert.equal(r.status, ExitCode.OK);
  assert.equal((r.json as { listeners: number }).listeners, 2);
  assert.equal((r.json as { clusters: number }).clusters, 1);
});

test('proxyctl validate reports every issue with its position and exits 78', () => {
  const file = join(FIXTURES, 'invalid.yaml');
  const r = proxyctl(['validate', file, '--json']);
  assert.equal(r.status, ExitCode.CONFIG);
  const { error } = r.json as ErrorJson;
  assert.deepEqual(Object.keys(r.json as object), ['ok', 'command', 'error']);
  assert.equal(error.code, 'PROXYCTL_ERR_CONFIG_INVALID');
  const errors = error.details.errors;
  assert.equal(errors.length, 21);
  for (const e of errors) assert.equal(e.file, file);
  const at = (path: string): [number, number] | undefined => {
    const e = errors.find((x) => x.path === path);
    return e === undefined ? undefined : [e.line, e.col];
  };
  assert.deepEqual(at('workers'), [1, 10]);
  assert.deepEqual(at('listeners[0].adress'), [15, 5]);
  assert.deepEqual(at('listeners[0].routes[0].cluster'), [9, 18]);
  assert.deepEqual(at('listeners[1].routes'), [19, 5]);
  assert.deepEqual(at('clusters[1].name'), [29, 11]);
  assert.deepEqual(at('drain.drainTime'), [33, 14]);

  // Without --json: one `file:line:col: path: message` line per issue on stderr, nothing on stdout.
  const human = proxyctl(['validate', file]);
  assert.equal(human.status, ExitCode.CONFIG);
  assert.equal(human.stdout, '');
  const lines = human.stderr.trimEnd().split('\n');
  assert.equal(lines.length, errors.length);
  lines.forEach((line, i) => {
    const e = errors[i];
    assert.ok(e !== undefined);
    assert.ok(line.startsWith(`${file}:${e.line}:${e.col}: ${e.path}: `), line);
  });
});

test('proxyctl validate reports YAML syntax errors as (yaml) issues', () => {
  const r = proxyctl(['validate', join(FIXTURES, 'syntax.yaml'), '--json']);
  assert.equal(r.status, ExitCode.CONFIG);
  const errors = (r.json as ErrorJson).error.details.errors;
  assert.ok(errors.length >= 1);
  assert.ok(errors.every((e) => e.path === '(yaml)'));
  // The duplicate `name` key on line 3 is among them.
  assert.ok(errors.some((e) => e.line === 3 && e.col === 5));
});

test('proxyctl validate: a missing file exits 78 with PROXYCTL_ERR_CONFIG_READ; no argument is a usage error', (t) => {
  const missing = join(tempDir(t), 'absent.yaml');
  const r = proxyctl(['validate', missing, '--json']);
  assert.equal(r.status, ExitCode.CONFIG);
  assert.equal((r.json as { error: { code: string } }).error.code, 'PROXYCTL_ERR_CONFIG_READ');
  const human = proxyctl(['validate', missing]);
  assert.equal(human.status, ExitCode.CONFIG);
  assert.match(human.stderr, /PROXYCTL_ERR_CONFIG_READ/);
  assert.equal(proxyctl(['validate']).status, ExitCode.USAGE);
});
