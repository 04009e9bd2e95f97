/**
 * The files a config's tls keys name are checked with the config: every problem is a
 * PROXYCTL_ERR_CONFIG_INVALID issue at the key that names the file (certFile, keyFile, caFile),
 * and relative paths resolve against the config file's directory.
 */
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { isProxyctlError } from '../src/errors.js';
import { parseConfig, type ConfigIssue } from '../src/config/index.js';
import { tempDir } from './helpers.js';
import { makeCa, makeLeaf, read } from './fixtures/tls-util.js';

function yaml(cert: string, key: string, extra = ''): string {
  return `listeners:
  - name: web
    address: 127.0.0.1:8443
    protocol: http
    tls:
      certificates:
        - certFile: ${cert}
          keyFile: ${key}
${extra}    routes:
      - match: { prefix: / }
        directResponse: { status: 200 }
`;
}

function issues(dir: string, text: string): { line: number; col: number; path: string }[] {
  try {
    parseConfig(text, join(dir, 'proxyctl.yaml'), { cpus: 1 });
  } catch (err: unknown) {
    assert.ok(isProxyctlError(err, 'PROXYCTL_ERR_CONFIG_INVALID'), String(err));
    assert.equal(err.exitCode, 78);
    return (err.details.errors as ConfigIssue[]).map(({ line, col, path }) => ({ line, col, path }));
  }
  return [];
}

function pki(t: TestContext): string {
  const dir = tempDir(t, 'proxyctl-tls-config-');
  makeCa(dir, 'ca');
  makeLeaf(dir, 'a', 'ca', ['a.test']);
  makeLeaf(dir, 'b', 'ca', ['b.test']);
  return dir;
}

const KEY = { line: 8, col: 11, path: 'listeners[0].tls.certificates[0].keyFile' };
const CERT = { line: 7, col: 11, path: 'listeners[0].tls.certificates[0].certFile' };

test('a sound tls section: paths resolved against the config directory, PEM read, defaults filled in', (t) => {
  const dir = pki(t);
  mkdirSync(join(dir, 'certs'));
  copyFileSync(join(dir, 'a.pem'), join(dir, 'certs/a.pem'));
  copyFileSync(join(dir, 'a.key'), join(dir, 'certs/a.key'));
  const { config } = parseConfig(yaml('certs/a.pem', 'certs/a.key'), join(dir, 'proxyctl.yaml'), { cpus: 1 });
  const tls = config.listeners[0]?.tls;
  assert.ok(tls !== undefined);
  assert.equal(tls.certificates[0]?.certFile, join(dir, 'certs/a.pem'));
  assert.equal(tls.certificates[0]?.cert, read(dir, 'a.pem'));
  assert.equal(tls.certificates[0]?.key, read(dir, 'a.key'));
  assert.deepEqual([tls.minVersion, tls.alpn, tls.handshakeTimeoutMs, tls.clientCertificate], ['TLSv1.2', ['h2', 'http/1.1'], 10_000, null]);
});

test('a key file group or others can read is refused at its keyFile key', (t) => {
  const dir = pki(t);
  chmodSync(join(dir, 'a.key'), 0o640);
  assert.deepEqual(issues(dir, yaml('a.pem', 'a.key')), [KEY]);
  chmodSync(join(dir, 'a.key'), 0o604);
  assert.deepEqual(issues(dir, yaml('a.pem', 'a.key')), [KEY]);
});

test('a missing file, a directory, PEM that does not parse, and a key of another certificate are refused', (t) => {
  const dir = pki(t);
  assert.deepEqual(issues(dir, yaml('missing.pem', 'a.key')), [CERT]);
  assert.deepEqual(issues(dir, yaml('a.pem', 'missing.key')), [KEY]);
  mkdirSync(join(dir, 'dir.pem'));
  assert.deepEqual(issues(dir, yaml('dir.pem', 'a.key')), [CERT]);
  writeFileSync(join(dir, 'junk.pem'), '-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n');
  writeFileSync(join(dir, 'junk.key'), 'not a key\n', { mode: 0o600 });
  assert.deepEqual(issues(dir, yaml('junk.pem', 'a.key')), [CERT]);
  assert.deepEqual(issues(dir, yaml('a.pem', 'junk.key')), [KEY]);
  assert.deepEqual(issues(dir, yaml('a.pem', 'b.key')), [KEY]);
});

test('CA files of clientCertificate and of a cluster are checked at their caFile keys', (t) => {
  const dir = pki(t);
  const text =
    yaml('a.pem', 'a.key', '      clientCertificate: { caFile: nope.pem }\n') +
    'clusters:\n  - name: app\n    endpoints: [127.0.0.1:9000]\n    tls: { sni: api.internal, caFile: a.key }\n';
  assert.deepEqual(issues(dir, text), [
    { line: 9, col: 28, path: 'listeners[0].tls.clientCertificate.caFile' },
    { line: 16, col: 31, path: 'clusters[0].tls.caFile' },
  ]);
});

test('tls keys are checked by the schema: versions, ALPN names, durations, server names, unknown keys', (t) => {
  const dir = pki(t);
  const extra = '      minVersion: TLSv1.1\n      alpn: ["http/1.1", ""]\n      handshakeTimeout: 10\n      bogus: 1\n';
  const text = `${yaml('a.pem', 'a.key', extra)}clusters:\n  - name: app\n    endpoints: [127.0.0.1:9000]\n    tls: { sni: "not a name" }\n`;
  assert.deepEqual(
    issues(dir, text).map((i) => i.path),
    ['listeners[0].tls.minVersion', 'listeners[0].tls.alpn[1]', 'listeners[0].tls.handshakeTimeout', 'listeners[0].tls.bogus', 'clusters[0].tls.sni'],
  );
});
