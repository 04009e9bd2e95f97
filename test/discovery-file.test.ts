/**
 * File discovery: endpoints from a watched YAML/JSON file. Every kind of change a deploy makes
 * (in place, rename over, delete and create) applies within a second; a bad file is refused
 * at its line:col and the last good set stays.
 */
import assert from 'node:assert/strict';
import { mkdirSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { discover, fileCluster, waitFor, type Harness } from './fixtures/discovery-util.js';
import { tempDir } from './helpers.js';

const FILE_ERR = 'PROXYCTL_ERR_DISCOVERY_FILE';

/** Waits (bounded, not a timing assertion) for the set after the current one. */
async function nextSet(h: Harness, what: string): Promise<string[]> {
  const n = h.recorder.sets.length;
  await h.recorder.until(() => h.recorder.sets.length > n, what);
  return h.recorder.last ?? [];
}

async function nextError(h: Harness, what: string): Promise<{ code: string; message: string }> {
  const n = h.recorder.errors.length;
  await h.recorder.until(() => h.recorder.errors.length > n, what);
  const e = h.recorder.errors[h.recorder.errors.length - 1];
  assert.ok(e !== undefined);
  return e;
}

/** `[line, col]` of each `file:line:col: path: message` line of an error naming `file`. */
function positions(message: string, file: string): [number, number][] {
  return message.split('\n').map((line) => {
    assert.ok(line.startsWith(`${file}:`), `a positioned line: ${line}`);
    const m = /^:(\d+):(\d+): /.exec(line.slice(file.length));
    assert.ok(m !== null, `line:col in ${line}`);
    return [Number(m[1]), Number(m[2])];
  });
}

test('file: the initial set from YAML, entries spelled as in the config, with weight, locality and metadata', async (t) => {
  const path = join(tempDir(t), 'app-endpoints.yaml');
  writeFileSync(path, 'endpoints:\n  - 127.0.0.1:9002\n  - { address: "[::1]:9001", weight: 3, locality: { zone: z1 }, metadata: { canary: true } }\n');
  const h = discover(t, fileCluster('app', path));
  await h.discovery.initialized(5_000);
  assert.deepEqual(h.recorder.sets, [['127.0.0.1:9002', '[::1]:9001']]);
  assert.deepEqual(h.recorder.endpoints[0]?.[1], { host: '::1', port: 9001, weight: 3, locality: { zone: 'z1' }, metadata: { canary: true } });
  assert.equal(h.counter('update_success'), 1);
});

test('file: a JSON file; an in-place edit and a write-temp-and-rename each apply within a second', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'app.json');
  writeFileSync(path, JSON.stringify({ endpoints: ['127.0.0.1:9001'] }));
  const h = discover(t, fileCluster('app', path));
  await h.recorder.until(() => h.recorder.sets.length === 1, 'initial set');
  assert.deepEqual(h.recorder.last, ['127.0.0.1:9001']);

  writeFileSync(path, JSON.stringify({ endpoints: ['127.0.0.1:9001', { address: '127.0.0.1:9002', weight: 2 }] }));
  assert.deepEqual(await nextSet(h, 'the set after an in-place edit'), ['127.0.0.1:9001', '127.0.0.1:9002']);

  writeFileSync(join(dir, '.app.json.tmp'), JSON.stringify({ endpoints: ['127.0.0.1:9003'] }));
  renameSync(join(dir, '.app.json.tmp'), path);
  assert.deepEqual(await nextSet(h, 'the set after a rename over the file'), ['127.0.0.1:9003']);
});

test('file: deleting the file is refused (last good set stays); creating it again applies', async (t) => {
  const path = join(tempDir(t), 'e.yaml');
  writeFileSync(path, 'endpoints: [127.0.0.1:9001]\n');
  const h = discover(t, fileCluster('app', path));
  await h.recorder.until(() => h.recorder.sets.length === 1, 'initial set');

  unlinkSync(path);
  const e = await nextError(h, 'an error for the missing file');
  assert.equal(e.code, FILE_ERR);
  assert.deepEqual(positions(e.message, path), [[1, 1]]);
  writeFileSync(path, 'endpoints: [127.0.0.1:9002]\n');
  assert.deepEqual(await nextSet(h, 'the set from the new file'), ['127.0.0.1:9002']);
  assert.equal(h.recorder.sets.length, 2, 'no set was reported while the file was gone');
});

test('file: bad YAML, a bad entry and a duplicate are refused at their line:col, the last good set stays; the fixed file applies', async (t) => {
  const path = join(tempDir(t), 'e.yaml');
  writeFileSync(path, 'endpoints:\n  - 127.0.0.1:9001\n');
  const h = discover(t, fileCluster('app', path));
  await h.recorder.until(() => h.recorder.sets.length === 1, 'initial set');

  writeFileSync(path, 'endpoints:\n  - 127.0.0.1:9001\n  - [unclosed\n');
  let e = await nextError(h, 'a YAML syntax error');
  assert.equal(e.code, FILE_ERR);
  assert.deepEqual(positions(e.message, path), [[4, 1]]);

  writeFileSync(path, 'endpoints:\n  - 127.0.0.1:9001\n  - { address: 127.0.0.1:9002, weight: 0 }\n  - address: 127.0.0.1:9003\n    colour: red\n');
  e = await nextError(h, 'schema errors');
  assert.equal(e.code, FILE_ERR);
  assert.deepEqual(positions(e.message, path), [[3, 40], [5, 5]], 'the weight value, then the unknown key');

  writeFileSync(path, 'endpoints:\n  - 127.0.0.1:9001\n  - 127.0.0.1:9002\n  - address: 127.0.0.1:9001\n');
  e = await nextError(h, 'a duplicate endpoint');
  assert.deepEqual(positions(e.message, path), [[4, 5]], 'the later of the two entries');

  assert.deepEqual(h.recorder.sets, [['127.0.0.1:9001']], 'the last good set stays');
  assert.equal(h.counter('update_failure'), 3);
  assert.ok(h.logs.some((l) => l.level === 'warn' && l.fields.cluster === 'app' && l.fields.code === FILE_ERR));

  writeFileSync(path, 'endpoints:\n  - 127.0.0.1:9001\n  - 127.0.0.1:9002\n');
  assert.deepEqual(await nextSet(h, 'the fixed file'), ['127.0.0.1:9001', '127.0.0.1:9002']);
});

test('file: "endpoints: []" is a valid empty set; the same content written again is no change', async (t) => {
  const path = join(tempDir(t), 'e.yaml');
  writeFileSync(path, 'endpoints: [127.0.0.1:9001]\n');
  const h = discover(t, fileCluster('app', path));
  await h.recorder.until(() => h.recorder.sets.length === 1, 'initial set');

  writeFileSync(path, 'endpoints: []\n');
  assert.deepEqual(await nextSet(h, 'the empty set'), []);
  assert.equal(h.counter('update_empty'), 1);

  writeFileSync(path, '# the same, reworded\nendpoints: [ ]\n');
  await waitFor(() => h.counter('update_no_rebuild') >= 1, 'a read that changed nothing');
  assert.equal(h.recorder.sets.length, 2);
});

// The test's own timeout is far below initialized()'s: it passes only if the failure settles it.
test('file: a file bad at start gives no set; initialized() settles after the failure', { timeout: 20_000 }, async (t) => {
  const path = join(tempDir(t), 'e.yaml');
  writeFileSync(path, 'endpoints:\n  - nowhere\n');
  const h = discover(t, fileCluster('app', path));
  await h.discovery.initialized(600_000);
  assert.deepEqual(h.recorder.sets, []);
  assert.equal(h.recorder.errors.length, 1);
  assert.equal(h.recorder.errors[0]?.code, FILE_ERR);
  assert.deepEqual(positions(h.recorder.errors[0]?.message ?? '', path), [[2, 5]]);
});

test('file: with no directory to watch at start, the stat poll finds the file once it appears', async (t) => {
  const dir = join(tempDir(t), 'later');
  const path = join(dir, 'e.yaml');
  const h = discover(t, fileCluster('app', path));
  const e = await nextError(h, 'an error for the missing file');
  assert.equal(e.code, FILE_ERR);
  mkdirSync(dir);
  writeFileSync(path, 'endpoints: [127.0.0.1:9001]\n');
  assert.deepEqual(await nextSet(h, 'the set from the file that appeared'), ['127.0.0.1:9001']);
});
