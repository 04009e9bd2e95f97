/**
 * The limits keys in the config (`limits.maxConnections`, `listeners[].maxConnections`) and the
 * default the epoch derives from RLIMIT_NOFILE when the file has none.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../src/config/index.js';
import { configIssues } from './fixtures/config-util.js';
import { fdConnectionBound, openFileLimit, RESERVE_FDS } from '../src/epoch/process/connection-budget.js';

const LISTENER = 'listeners:\n  - name: web\n    address: 127.0.0.1:8080\n    protocol: http\n    routes: [{ match: { prefix: / }, directResponse: { status: 200 } }]\n';

test('limits.maxConnections and a listener maxConnections are kept; without them the config keeps its shape and hash', () => {
  const plain = parseConfig(LISTENER, 'limits.yaml', { cpus: 1 });
  assert.equal('limits' in plain.config, false);
  assert.equal('maxConnections' in (plain.config.listeners[0] ?? {}), false);
  const capped = parseConfig(`limits: { maxConnections: 20000 }\n${LISTENER}    maxConnections: 500\n`, 'limits.yaml', { cpus: 1 });
  assert.deepEqual(capped.config.limits, { maxConnections: 20000 });
  assert.equal(capped.config.listeners[0]?.maxConnections, 500);
  assert.notEqual(capped.hash, plain.hash);
  assert.deepEqual(parseConfig(`limits: {}\n${LISTENER}`, 'limits.yaml', { cpus: 1 }).config.limits, {});
});

test('a cap must be a whole number from 1; unknown keys under limits are errors, at their positions', () => {
  assert.deepEqual(configIssues(`limits: { maxConnections: 0 }\n${LISTENER}`), [{ line: 1, col: 27, path: 'limits.maxConnections' }]);
  assert.deepEqual(configIssues(`limits: { maxConections: 10 }\n${LISTENER}`).map((i) => i.path), ['limits.maxConections']);
  assert.deepEqual(configIssues(`${LISTENER}    maxConnections: 1.5\n`), [{ line: 6, col: 21, path: 'listeners[0].maxConnections' }]);
});

test('the default cap: two fds per connection after what is open, the listening sockets and the reserve', () => {
  const limits = 'Limit                     Soft Limit           Hard Limit           Units\nMax open files            256                  4096                 files\n';
  assert.equal(openFileLimit(limits), 256);
  assert.equal(openFileLimit(limits.replace('256   ', 'unlimited')), null);
  assert.equal(openFileLimit('Max processes 10 10 processes\n'), null);
  assert.equal(fdConnectionBound(256, 26, 2), Math.floor((256 - 26 - 2 - RESERVE_FDS) / 2));
  assert.equal(fdConnectionBound(64, 40, 4), 1, 'never below one');
  assert.equal(fdConnectionBound(null, 40, 4), null);
});
