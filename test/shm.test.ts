import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StatsRegion, readSnapshot, LOCK_ALLOCATION } from '../src/shm/index.js';
import { HEADER, HEADER_BYTES, ENTRY_BYTES } from '../src/shm/layout.js';
import { isProxyctlError, type ErrorCode } from '../src/errors.js';
import { tempDir, spawnFixture, completion, waitForOutput } from './helpers.js';

const SMALL = { maxStats: 64, nameCapacity: 4096, dataCapacity: 4096 };

function assertCode(fn: () => unknown, code: ErrorCode): void {
  assert.throws(fn, (err: unknown) => isProxyctlError(err, code), `expected ${code}`);
}

test('a stat allocated by name is the same slot for every opener', (t) => {
  const path = join(tempDir(t), 'stats');
  const a = StatsRegion.create(path, SMALL);
  const b = StatsRegion.open(path);
  a.counter('listener.web.downstream_cx_total').add(5);
  b.counter('listener.web.downstream_cx_total').inc();
  assert.equal(a.counter('listener.web.downstream_cx_total').value(), 6n);
  assert.equal(readSnapshot(b).counters.get('listener.web.downstream_cx_total'), 6n);
  assert.equal([...a.entries()].length, 1);
  assert.equal(statSync(path).mode & 0o777, 0o600);
});

test('a name is one kind only, and bad names are refused, never truncated', (t) => {
  const r = StatsRegion.create(join(tempDir(t), 'stats'), SMALL);
  r.counter('x');
  assertCode(() => r.gauge('x'), 'PROXYCTL_ERR_STAT_NAME');
  assertCode(() => StatsRegion.open(r.path).histogram('x'), 'PROXYCTL_ERR_STAT_NAME');
  assertCode(() => r.counter(''), 'PROXYCTL_ERR_STAT_NAME');
  assertCode(() => r.counter('a'.repeat(1025)), 'PROXYCTL_ERR_STAT_NAME');
  assertCode(() => r.counter('line\nbreak'), 'PROXYCTL_ERR_STAT_NAME');
  const long = 'n'.repeat(1024);
  r.counter(long).inc();
  assert.equal(readSnapshot(StatsRegion.open(r.path, { readOnly: true })).counters.get(long), 1n);
});

test('counters are exact under 2 processes × 4 worker threads × 1,000,000 increments', { timeout: 120_000 }, async (t) => {
  const path = join(tempDir(t), 'stats');
  StatsRegion.create(path, SMALL);
  const args = ['increment', path, 'http.web.downstream_rq_total', '4', '1000000'];
  await Promise.all([completion(spawnFixture(t, 'shm-child', args)), completion(spawnFixture(t, 'shm-child', args))]);
  assert.equal(readSnapshot(StatsRegion.open(path, { readOnly: true })).counters.get('http.web.downstream_rq_total'), 8_000_000n);
});

test('two processes allocating the same 1,000 names concurrently end up with 1,000 slots', { timeout: 60_000 }, async (t) => {
  const path = join(tempDir(t), 'stats');
  StatsRegion.create(path, { maxStats: 2048 });
  const [one, two] = await Promise.all([
    completion(spawnFixture(t, 'shm-child', ['allocate', path, '1000'])),
    completion(spawnFixture(t, 'shm-child', ['allocate', path, '1000'])),
  ]);
  const region = StatsRegion.open(path, { readOnly: true });
  const snap = readSnapshot(region);
  assert.equal(snap.counters.size, 1000);
  assert.equal([...region.entries()].length, 1000);
  for (const [name, value] of snap.counters) assert.equal(value, 2n, name);
  assert.deepEqual(JSON.parse(one), JSON.parse(two));
});

test('regions that are not ours are refused with a typed error, never a crash', async (t) => {
  const dir = tempDir(t);
  const good = join(dir, 'good');
  StatsRegion.create(good, SMALL).counter('kept').inc();
  const variants: Array<[string, (p: string) => void]> = [
    ['wrong magic', (p) => patch(p, HEADER.magic, Buffer.from('NOTSTATS'))],
    ['wrong version', (p) => patch(p, HEADER.layoutVersion, u32(999))],
    ['truncated', (p) => truncateSync(p, statSync(p).size - 8)],
    ['header only', (p) => truncateSync(p, 100)],
    ['empty', (p) => truncateSync(p, 0)],
    ['capacity lies', (p) => patch(p, HEADER.maxStats, u32(0xffffffff))],
    ['size lies', (p) => patch(p, HEADER.totalBytes, Buffer.alloc(8, 0x7f))],
  ];
  for (const [what, damage] of variants) {
    const p = join(dir, what.replace(/ /g, '-'));
    writeFileSync(p, readFileSync(good), { mode: 0o600 });
    damage(p);
    assertCode(() => StatsRegion.open(p, { readOnly: true }), 'PROXYCTL_ERR_SHM_INCOMPATIBLE');
  }
  for (let i = 0; i < 50; i++) {
    const p = join(dir, `random-${i}`);
    writeFileSync(p, randomBytes(1 + Math.floor(Math.random() * 3 * HEADER_BYTES)));
    assertCode(() => StatsRegion.open(p, { readOnly: true }), 'PROXYCTL_ERR_SHM_INCOMPATIBLE');
  }
  assert.equal(readSnapshot(StatsRegion.open(good, { readOnly: true })).counters.get('kept'), 1n);
});

test('a sound header over a damaged directory gives PROXYCTL_ERR_SHM_CORRUPT on read', (t) => {
  const r = StatsRegion.create(join(tempDir(t), 'stats'), SMALL);
  r.counter('a').inc();
  r.counter('b').inc();
  const entryB = r.header.sections.directory + ENTRY_BYTES;
  patch(r.path, entryB + 4, u32(0x7fffff00)); // b's name offset, far outside the names section
  assertCode(() => readSnapshot(StatsRegion.open(r.path, { readOnly: true })), 'PROXYCTL_ERR_SHM_CORRUPT');
});

test('a process SIGKILLed holding the allocation lock is taken over, and stats survive', { timeout: 30_000 }, async (t) => {
  const path = join(tempDir(t), 'stats');
  const r = StatsRegion.create(path, SMALL);
  r.counter('before').add(41);
  const holder = spawnFixture(t, 'shm-child', ['hold-lock', path]);
  await waitForOutput(holder, 'locked');
  assert.equal(r.locks.ownerPid(LOCK_ALLOCATION), holder.pid);
  const exited = new Promise((resolve) => holder.once('exit', resolve));
  holder.kill('SIGKILL');
  await exited;
  const started = Date.now();
  r.counter('after').inc();
  assert.ok(Date.now() - started < 1000, 'took over within a second');
  assert.equal(r.locks.recoveries(LOCK_ALLOCATION), 1);
  assert.equal(r.locks.ownerPid(LOCK_ALLOCATION), 0);
  const snap = readSnapshot(r);
  assert.equal(snap.counters.get('before'), 41n);
  assert.equal(snap.counters.get('after'), 1n);
});

test('an allocation lock held by a live process times out with a typed error', (t) => {
  const path = join(tempDir(t), 'stats');
  const holder = StatsRegion.create(path, SMALL);
  const other = StatsRegion.open(path, { lockTimeoutMs: 50 });
  holder.locks.acquire(LOCK_ALLOCATION);
  t.after(() => holder.locks.release(LOCK_ALLOCATION));
  assertCode(() => other.counter('blocked'), 'PROXYCTL_ERR_SHM_LOCK_TIMEOUT');
});

test('clearLane removes exactly one epoch\'s gauge contribution', (t) => {
  const path = join(tempDir(t), 'stats');
  const supervisor = StatsRegion.create(path, SMALL);
  const epoch1 = StatsRegion.open(path, { epoch: 1 });
  const epoch2 = StatsRegion.open(path, { epoch: 2 });
  const name = 'listener.web.downstream_cx_active';
  epoch1.gauge(name).add(7);
  epoch2.gauge(name).add(3);
  supervisor.gauge(name).add(100);
  epoch1.gauge('other').add(2);
  assert.equal(supervisor.gauge(name).value(), 110n);
  supervisor.clearLane(1);
  assert.equal(supervisor.gauge(name).value(), 103n);
  assert.equal(epoch2.gauge(name).laneValue(), 3n);
  assert.equal(supervisor.gauge('other').value(), 0n);
  supervisor.clearLane(1);
  assert.equal(supervisor.gauge(name).value(), 103n, 'clearing again changes nothing');
});

test('max gauges report the highest lane instead of double counting', (t) => {
  const path = join(tempDir(t), 'stats');
  StatsRegion.create(path, SMALL);
  StatsRegion.open(path, { epoch: 4 }).gauge('server.hot_restart_generation', 'max').set(4);
  StatsRegion.open(path, { epoch: 5 }).gauge('server.hot_restart_generation', 'max').set(5);
  assert.equal(readSnapshot(StatsRegion.open(path, { readOnly: true })).gauges.get('server.hot_restart_generation'), 5n);
});

test('a full region says so, counts the overflow, and keeps what it had', (t) => {
  const r = StatsRegion.create(join(tempDir(t), 'stats'), { maxStats: 8, nameCapacity: 4096, dataCapacity: 4096 });
  for (let i = 0; i < 8; i++) r.counter(`c${i}`).add(i);
  assertCode(() => r.counter('one-too-many'), 'PROXYCTL_ERR_SHM_FULL');
  assert.equal(r.overflows(), 1n);
  const data = StatsRegion.create(join(tempDir(t), 'stats'), { maxStats: 8, nameCapacity: 4096, dataCapacity: 1000 });
  data.histogram('h1').record(5);
  assertCode(() => data.histogram('h2'), 'PROXYCTL_ERR_SHM_FULL');
  const snap = readSnapshot(r);
  assert.equal(snap.counters.size, 8);
  for (let i = 0; i < 8; i++) assert.equal(snap.counters.get(`c${i}`), BigInt(i));
  assert.equal(snap.overflows, 1n);
  r.counter('c3').inc();
  assert.equal(r.counter('c3').value(), 4n, 'existing stats keep working when full');
  assert.equal(readSnapshot(data).histograms.get('h1')?.count, 1);
});

test('histogram quantiles stay within 3.2 % from 1 µs to 60 s', (t) => {
  const r = StatsRegion.create(join(tempDir(t), 'stats'), { ...SMALL, dataCapacity: 16_384 });
  for (const v of [1, 37, 1000, 123_456, 60_000_000]) {
    const h = r.histogram(`h${v}`);
    for (let i = 0; i < 1000; i++) h.record(v);
    const s = readSnapshot(r).histograms.get(`h${v}`);
    assert.ok(s);
    assert.equal(s.count, 1000);
    assert.equal(s.sum, 1000 * v);
    for (const q of [s.p50, s.p99, s.p999]) assert.ok(Math.abs(q - v) / v <= 0.032, `${v}: got ${q}`);
  }
  const spread = r.histogram('spread');
  for (let v = 1; v <= 10_000; v++) spread.record(v);
  const s = readSnapshot(r).histograms.get('spread');
  assert.ok(s);
  assert.ok(Math.abs(s.p50 - 5000) / 5000 < 0.032, `p50 ${s.p50}`);
  assert.ok(Math.abs(s.p99 - 9900) / 9900 < 0.032, `p99 ${s.p99}`);
});

test('a read-only mapping reads but cannot allocate', (t) => {
  const path = join(tempDir(t), 'stats');
  StatsRegion.create(path, SMALL).counter('a').inc();
  const ro = StatsRegion.open(path, { readOnly: true });
  assert.equal(readSnapshot(ro).counters.get('a'), 1n);
  assert.throws(() => ro.counter('b'));
});

function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return b;
}

function patch(path: string, offset: number, bytes: Buffer): void {
  const data = readFileSync(path);
  bytes.copy(data, offset);
  writeFileSync(path, data);
}
