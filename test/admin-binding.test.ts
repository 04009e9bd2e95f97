/**
 * Where the admin endpoint may listen: never a non-loopback TCP address unless the config
 * says allowRemote, and one socket only. (The Unix socket itself is served in
 * admin-api.test.ts, after a reload onto it.)
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseConfig, type ConfigIssue } from '../src/config/index.js';
import { ExitCode, isProxyctlError } from '../src/errors.js';
import { tempDir } from './helpers.js';
import { configYaml, runCli } from './fixtures/supervisor-util.js';

const withAdmin = (admin: string): string => `admin: ${admin}\n${configYaml({ port: 8080 })}`;

/** `line:col path` of each issue, or null when the config is accepted. */
function refusal(text: string): string[] | null {
  try {
    parseConfig(text, 'a.yaml', { cpus: 1 });
    return null;
  } catch (err: unknown) {
    assert.ok(isProxyctlError(err, 'PROXYCTL_ERR_CONFIG_INVALID'), String(err));
    return (err.details.errors as ConfigIssue[]).map((e) => `${e.line}:${e.col} ${e.path}`);
  }
}

test('a non-loopback admin address is refused (validate exits 78) unless allowRemote: true', async (t) => {
  const path = join(tempDir(t), 'remote.yaml');
  writeFileSync(path, withAdmin('{ address: 0.0.0.0:9901 }'));
  const remote = await runCli(['validate', path, '--json']);
  assert.equal(remote.code, ExitCode.CONFIG);
  assert.equal(remote.json.error.code, 'PROXYCTL_ERR_CONFIG_INVALID');
  assert.deepEqual(refusal(withAdmin('{ address: 0.0.0.0:9901 }')), ['1:19 admin.address']);
  assert.deepEqual(refusal(withAdmin('{ address: "[::]:9901" }')), ['1:19 admin.address']);
  assert.equal(refusal(withAdmin('{ address: 0.0.0.0:9901, allowRemote: true }')), null);
  assert.equal(refusal(withAdmin('{ address: 127.0.0.2:9901 }')), null);
  assert.equal(refusal(withAdmin('{ address: "[::1]:9901" }')), null);
  assert.equal(refusal(withAdmin('{ unix: true }')), null);
  assert.deepEqual(refusal(withAdmin('{ unix: true, address: 127.0.0.1:9901 }')), ['1:16 admin.unix']);
  assert.deepEqual(refusal(withAdmin('{ unix: true, allowRemote: true }')), ['1:35 admin.allowRemote']);
  assert.deepEqual(refusal(withAdmin('{}')), ['1:8 admin']);
});
