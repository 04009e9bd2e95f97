import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StatsRegion, readSnapshot } from '../src/shm/index.js';
import { isProxyctlError } from '../src/errors.js';
import { ENTRY_BYTES, HEADER, StatKind } from '../src/shm/layout.js';
import { scopesOf } from '../src/epoch/supervisor/stat-scopes.js';
import { metricName } from '../src/stats-format/metric-names.js';
import { scopeOf } from '../src/stats/scope-names.js';
import { parseConfig } from '../src/config/index.js';
import { tempDir } from './helpers.js';

const SMALL = { maxStats: 64, nameCapacity: 4096, dataCapacity: 8192 };

test('a freed stat leaves every reader, and the others keep their slots and values', (t) => {
  const path = join(tempDir(t), 'stats');
  const r = StatsRegion.create(path, SMALL);
  r.counter('listener.a.downstream_cx_total').add(3);
  r.counter('listener.b.downstream_cx_total').add(5);
  r.gauge('listener.b.downstream_cx_active').set(2);
  r.histogram('cluster.x.upstream_rq_time').record(100);
  r.counter('cluster.y.upstream_rq_total').add(7);
  assert.equal(r.free((n) => n.startsWith('listener.b.') || n.startsWith('cluster.x.')), 3);
  const ro = StatsRegion.open(path, { readOnly: true });
  const snap = readSnapshot(ro);
  assert.deepEqual([...snap.counters.keys()].sort(), ['cluster.y.upstream_rq_total', 'listener.a.downstream_cx_total']);
  assert.equal(snap.gauges.size, 0);
  assert.equal(snap.histograms.size, 0);
  assert.deepEqual([...ro.entries()].map((e) => e.name).sort(), ['cluster.y.upstream_rq_total', 'listener.a.downstream_cx_total']);
  // Another opener finds the kept stats by name, in their old slots.
  const other = StatsRegion.open(path);
  assert.equal(other.counter('listener.a.downstream_cx_total').value(), 3n);
  assert.equal(other.counter('cluster.y.upstream_rq_total').value(), 7n);
  assert.equal(r.freeCounts().freed, 3n);
});

test('freed entries are taken again by the same kind only, starting at 0', (t) => {
  const r = StatsRegion.create(join(tempDir(t), 'stats'), SMALL);
  r.counter('cluster.x.upstream_rq_total').add(9);
  r.histogram('cluster.x.upstream_rq_time').record(5);
  r.counter('keep').inc();
  r.free((n) => n.startsWith('cluster.x.'));
  const before = r.statCount();
  // A gauge takes no freed counter or histogram: it gets new slots.
  r.gauge('g').set(1);
  assert.equal(r.statCount(), before + 1);
  // The removed cluster coming back reuses the freed slots, from zero.
  const again = StatsRegion.open(r.path);
  assert.equal(again.counter('cluster.x.upstream_rq_total').value(), 0n);
  again.histogram('cluster.x.upstream_rq_time').record(7);
  assert.equal(r.statCount(), before + 1);
  assert.equal(again.freeCounts().reused, 2n);
  const snap = readSnapshot(again);
  assert.equal(snap.counters.get('cluster.x.upstream_rq_total'), 0n);
  assert.equal(snap.histograms.get('cluster.x.upstream_rq_time')?.count, 1);
  assert.equal(snap.counters.get('keep'), 1n);
  // A longer name than the freed slot's still reuses the entry and its value words.
  r.free((n) => n === 'keep');
  again.counter('a-counter-with-a-much-longer-name-than-keep').add(2);
  assert.equal(r.statCount(), before + 1);
  assert.equal(readSnapshot(r).counters.get('a-counter-with-a-much-longer-name-than-keep'), 2n);
});

test('the index keeps finding every other stat through the tombstones of freed ones', (t) => {
  const path = join(tempDir(t), 'stats');
  const r = StatsRegion.create(path, { maxStats: 256, nameCapacity: 16_384, dataCapacity: 8192 });
  for (let i = 0; i < 250; i++) r.counter(`cluster.c${i}.upstream_rq_total`).add(i);
  r.free((n) => Number(n.slice(9, n.indexOf('.', 8))) % 2 === 1);
  const fresh = StatsRegion.open(path);
  for (let i = 0; i < 250; i += 2) assert.equal(fresh.counter(`cluster.c${i}.upstream_rq_total`).value(), BigInt(i), `c${i}`);
  // Freed names come back as new stats; 250 live entries again, none beyond the 250 ever used.
  for (let i = 1; i < 250; i += 2) assert.equal(fresh.counter(`cluster.c${i}.upstream_rq_total`).value(), 0n);
  assert.equal(fresh.statCount(), 250);
  assert.equal(readSnapshot(StatsRegion.open(path, { readOnly: true })).counters.size, 250);
});

test('a full region still refuses and counts overflows; a freed entry makes room', (t) => {
  const r = StatsRegion.create(join(tempDir(t), 'stats'), { maxStats: 4, nameCapacity: 4096, dataCapacity: 4096 });
  for (let i = 0; i < 4; i++) r.counter(`cluster.c${i}.x`).inc();
  assert.throws(() => r.counter('cluster.c4.x'), (err: unknown) => isProxyctlError(err, 'PROXYCTL_ERR_SHM_FULL'));
  assert.equal(r.overflows(), 1n);
  r.free((n) => n === 'cluster.c0.x');
  r.counter('cluster.c4.x').add(2);
  assert.throws(() => r.counter('cluster.c5.x'), (err: unknown) => isProxyctlError(err, 'PROXYCTL_ERR_SHM_FULL'));
  assert.equal(r.overflows(), 2n);
  assert.equal(readSnapshot(r).counters.get('cluster.c4.x'), 2n);
  // No room for a longer name: the freed entry stays free, the overflow is counted.
  const names = StatsRegion.create(join(tempDir(t), 'stats2'), { maxStats: 4, nameCapacity: 8, dataCapacity: 64 });
  names.counter('a');
  names.counter('b');
  names.free((n) => n === 'a');
  assert.throws(() => names.counter('ccccccc'), (err: unknown) => isProxyctlError(err, 'PROXYCTL_ERR_SHM_FULL'));
  names.counter('d');
  assert.equal(names.freeCounts().reused, 1n);
});

test('a flush delta is claimed once across openers, and a reused entry starts a new baseline', (t) => {
  const path = join(tempDir(t), 'stats');
  const a = StatsRegion.create(path, SMALL);
  const b = StatsRegion.open(path);
  const c = a.counter('cluster.x.upstream_rq_total');
  c.add(5);
  const entry = (r: StatsRegion) => [...r.entries()].find((e) => e.name === 'cluster.x.upstream_rq_total')!;
  assert.equal(a.takeDelta(entry(a)), 5n);
  assert.equal(b.takeDelta(entry(b)), 0n, 'the other opener sees the baseline');
  c.add(3);
  assert.equal(b.takeDelta(entry(b)), 3n);
  a.free((n) => n.startsWith('cluster.x.'));
  b.counter('cluster.x.upstream_rq_total').add(2);
  assert.equal(a.takeDelta(entry(a)), 2n);
});

test('scopes: listener, http and access_log stats by listener name, cluster stats by cluster name', () => {
  assert.equal(scopeOf('cluster.app.upstream_rq_total'), 'cluster.app.');
  assert.equal(scopeOf('http.web.rl.rate_limited'), 'http.web.');
  assert.equal(scopeOf('access_log.web.dropped'), 'access_log.web.');
  assert.equal(scopeOf('supervisor.reload_success'), null);
  assert.equal(scopeOf('server.hot_restart_generation'), null);
  assert.equal(scopeOf('cluster.app'), null, 'no stat after the object');
  // Prometheus labels the same scopes with the same tag names (the statsd sink's, prefixed).
  assert.deepEqual(metricName('access_log.web.dropped'), { name: 'proxyctl_access_log_dropped', labels: 'proxyctl_listener_name="web"', template: 'access_log.<proxyctl_listener_name>.dropped' });
  assert.equal(metricName('cluster.app.upstream_rq_total').labels, 'proxyctl_cluster_name="app"');
  assert.equal(metricName('supervisor.reload_success').labels, '');
  const { config } = parseConfig(
    ['listeners:', '  - { name: web, address: 127.0.0.1:1, protocol: tcp, cluster: app }', 'clusters:', '  - { name: app, endpoints: [127.0.0.1:2] }', ''].join('\n'),
    'inline.yaml',
  );
  assert.deepEqual([...scopesOf(config)].sort(), ['access_log.web.', 'cluster.app.', 'http.web.', 'listener.web.']);
});

test('a damaged region is refused with SHM_CORRUPT: a free-list head past the entries, a negative used counter, entries sharing a histogram', (t) => {
  const damaged = (poke: (file: Buffer, r: StatsRegion) => void): StatsRegion => {
    const path = join(tempDir(t), 'stats');
    const r = StatsRegion.create(path, SMALL);
    r.counter('a').inc();
    r.histogram('h').record(1);
    r.free((n) => n === 'a');
    const file = readFileSync(path);
    poke(file, r);
    writeFileSync(path, file);
    return StatsRegion.open(path, { lockTimeoutMs: 0 });
  };
  const corrupt = (err: unknown): boolean => isProxyctlError(err, 'PROXYCTL_ERR_SHM_CORRUPT');
  // The counter free list's head (header freeHeads + 4 × kind) names entry 40 of 2.
  assert.throws(() => damaged((f) => f.writeInt32LE(41, HEADER.freeHeads + 4 * StatKind.counter)).counter('b'), corrupt);
  assert.throws(() => damaged((f) => f.writeInt32LE(-64, HEADER.nameUsed)).gauge('g'), corrupt);
  // Every directory entry made a copy of the histogram at data word 0: 64 × 7 KiB from a 130 KiB file.
  const aliased = damaged((f, r) => {
    const entry = f.subarray(r.header.sections.directory + ENTRY_BYTES, r.header.sections.directory + 2 * ENTRY_BYTES);
    for (let id = 0; id < SMALL.maxStats; id++) entry.copy(f, r.header.sections.directory + id * ENTRY_BYTES);
    f.writeInt32LE(SMALL.maxStats, HEADER.statCount);
  });
  assert.throws(() => readSnapshot(aliased), corrupt);
});
