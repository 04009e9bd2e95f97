/** Discovery sources in general: static, and what stop() leaves behind (nothing). */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { staticCluster } from '../src/config/static-cluster.js';
import { DnsServer } from './fixtures/dns-server.js';
import { discover } from './fixtures/discovery-util.js';
import { completion, spawnFixture, tempDir } from './helpers.js';

test('static: the config endpoints are reported once, in canonical order', { timeout: 20_000 }, async (t) => {
  const h = discover(t, staticCluster('app', [{ host: '127.0.0.1', port: 9002 }, { host: '127.0.0.1', port: 9001 }]));
  await h.discovery.initialized(600_000);
  assert.deepEqual(h.recorder.sets, [['127.0.0.1:9001', '127.0.0.1:9002']]);
  assert.deepEqual(h.recorder.errors, []);
  assert.equal(h.counter('update_attempt'), 1);
  assert.equal(h.counter('update_success'), 1);
});

test('stop() leaves nothing that keeps the event loop alive (dns and file sources)', async (t) => {
  const dir = tempDir(t);
  const dns = await DnsServer.start(t);
  dns.set('app.proxyctl.test', { a: ['10.0.0.1'] });
  const file = join(dir, 'e.yaml');
  writeFileSync(file, 'endpoints: [127.0.0.1:9001]\n');
  const child = spawnFixture(t, 'discovery-stop-child', [String(dns.port), file, join(dir, 'stats')]);
  // The child is killed when the test ends; a child kept alive by a leftover handle fails here.
  const exited = completion(child);
  const deadline = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the child did not exit within 10 s of stopping')), 10_000).unref());
  assert.equal(await Promise.race([exited, deadline]), 'stopped\n');
});
