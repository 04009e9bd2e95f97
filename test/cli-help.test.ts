/** Every command's --help, oclif's own: it exits 0 and has an EXAMPLES section. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function help(id: string): Promise<{ id: string; code: number | null; stdout: string }> {
  const child = spawn(process.execPath, [join(ROOT, 'bin/run.js'), ...id.split(':'), '--help'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NO_COLOR: '1' } });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ id, code, stdout }));
  });
}

test('every command in the manifest answers --help with exit 0 and EXAMPLES', async () => {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'oclif.manifest.json'), 'utf8')) as { commands: Record<string, { examples?: unknown[] }> };
  const ids = Object.keys(manifest.commands);
  for (const id of ['start', 'reload', 'drain', 'stop', 'status', 'stats', 'validate']) assert.ok(ids.includes(id), id);
  // Two at a time: this machine has two cores, and each is a full oclif start.
  const runs = [];
  for (let i = 0; i < ids.length; i += 2) runs.push(...(await Promise.all(ids.slice(i, i + 2).map(help))));
  for (const r of runs) {
    assert.equal(r.code, 0, r.id);
    assert.match(r.stdout, /^EXAMPLES$/m, r.id);
    assert.match(r.stdout, new RegExp(`^  \\$ proxyctl ${r.id.replace(/:/g, ' ')}`, 'm'), `${r.id}: an example of itself`);
  }
});
