import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../src/config/index.js';
import { configIssues } from './fixtures/config-util.js';

const LISTENER = 'listeners:\n  - { name: web, address: 127.0.0.1:1, protocol: http, routes: [{ match: { prefix: / }, directResponse: { status: 200 } }] }\n';

test('stats: defaults, a statsd sink, and errors at the key', () => {
  assert.deepEqual(parseConfig(LISTENER, 'test.yaml').config.stats, { flushIntervalMs: 5000, sinks: [] });
  const full = parseConfig(`${LISTENER}stats:\n  flushInterval: 200ms\n  sinks:\n    - statsd: { address: 127.0.0.1:8125, prefix: px.edge, tags: dogstatsd }\n    - statsd: { address: localhost:9125 }\n`, 'test.yaml');
  assert.deepEqual(full.config.stats, {
    flushIntervalMs: 200,
    sinks: [
      { kind: 'statsd', address: { host: '127.0.0.1', port: 8125 }, prefix: 'px.edge', tags: 'dogstatsd' },
      { kind: 'statsd', address: { host: 'localhost', port: 9125 }, prefix: 'proxyctl', tags: 'none' },
    ],
  });
  assert.deepEqual(configIssues(`${LISTENER}stats:\n  flushInterval: 1ms\n`), [{ line: 4, col: 18, path: 'stats.flushInterval' }]);
  assert.deepEqual(configIssues(`${LISTENER}stats:\n  sinks:\n    - statsd: { address: 127.0.0.1:8125, tags: influx }\n`).map((i) => i.path), ['stats.sinks[0].statsd.tags']);
  assert.deepEqual(configIssues(`${LISTENER}stats:\n  sinks:\n    - statsd: { address: 127.0.0.1:8125, prefix: "a..b" }\n`).map((i) => i.path), ['stats.sinks[0].statsd.prefix']);
  assert.ok(configIssues(`${LISTENER}stats:\n  sinks:\n    - graphite: { address: 127.0.0.1:2003 }\n`).some((i) => i.path === 'stats.sinks[0].graphite'), 'an unknown sink kind is an unknown key');
  assert.deepEqual(configIssues(`${LISTENER}stats:\n  sinks:\n    - statsd: { prefix: px }\n`).map((i) => i.path), ['stats.sinks[0].statsd.address']);
});
