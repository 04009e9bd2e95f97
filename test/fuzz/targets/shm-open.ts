/**
 * Opening a stats region file that is random, truncated or corrupted, the way `proxyctl stats`
 * (read-only, then a snapshot) and an epoch (read-write, then allocations by name) do.
 * Invariants:
 * - opening either succeeds or throws a ProxyctlError with a PROXYCTL_ERR_SHM_* code, never a
 *   RangeError or TypeError, and never loops (free lists and index chains may hold cycles or
 *   offsets past the end);
 * - a region that opens can be read fully: every entry listed, every value read, or the read is
 *   refused with PROXYCTL_ERR_SHM_CORRUPT;
 * - a read allocates no more than the file holds: entries that alias one another's value words
 *   or name bytes (each histogram read copies its buckets) cannot multiply a small file;
 * - an epoch's allocations on an opened region succeed, or throw a typed error (SHM_*, or
 *   STAT_NAME for a name held by another kind), and a snapshot afterwards holds too.
 *
 * Bases are real regions built with the real API (counters, gauges, histograms, some freed and
 * taken again), small so that an execution (write the file, map it twice) stays cheap.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { ProxyctlError } from '../../../src/errors.js';
import { ENTRY, ENTRY_BYTES, HEADER, HISTOGRAM_BUCKETS, LOCK_BYTES, sectionOffsets, type RegionCapacity } from '../../../src/shm/layout.js';
import { StatsRegion, readSnapshot, snapshotToJson } from '../../../src/shm/index.js';
import { type FuzzTarget, invariant } from '../target.js';

const DIR = mkdtempSync(join(tmpdir(), 'proxyctl-fuzz-shm-'));
const PATH = join(DIR, 'stats');
process.once('exit', () => rmSync(DIR, { recursive: true, force: true }));

interface Base {
  bytes: Buffer;
  capacity: RegionCapacity;
}

function build(capacity: RegionCapacity, fill: (r: StatsRegion) => void): Base {
  const r = StatsRegion.create(PATH, capacity);
  fill(r);
  return { bytes: readFileSync(PATH), capacity };
}

const BASES: readonly Base[] = [
  build({ maxStats: 8, nameCapacity: 128, dataCapacity: 1024, lockCount: 1 }, (r) => {
    r.counter('http.requests').add(41);
    r.counter('http.errors').inc();
    r.gauge('conn.active', 'max').set(7);
    r.histogram('http.latency_us').record(1234);
    r.free((n) => n === 'http.errors' || n === 'conn.active');
    r.counter('tcp.accepts').add(3); // takes http.errors' entry from the free list
  }),
  build({ maxStats: 6, nameCapacity: 64, dataCapacity: 32, lockCount: 2 }, (r) => {
    for (const n of ['a', 'b', 'c', 'd']) r.counter(`c.${n}`).inc();
    r.gauge('g.x').set(-5);
    r.free((n) => n.startsWith('c.')); // a free list four long
  }),
  build({ maxStats: 2, nameCapacity: 8, dataCapacity: 8, lockCount: 1 }, (r) => {
    r.counter('only').add(9);
  }),
  build({ maxStats: 1, nameCapacity: 1, dataCapacity: 1, lockCount: 1 }, () => {}),
];

/** Offsets of the i32 fields whose values steer reads: counters, free heads, entries, index slots. */
function steeringFields(c: RegionCapacity): number[] {
  const s = sectionOffsets(c);
  const fields: number[] = [HEADER.statCount, HEADER.nameUsed, HEADER.dataUsed, HEADER.maxStats, HEADER.dataCapacity, HEADER.indexSlots];
  for (let k = 1; k <= 3; k++) fields.push(HEADER.freeHeads + 4 * k);
  for (let id = 0; id < c.maxStats; id++) for (const f of Object.values(ENTRY)) if (f !== ENTRY.flushed) fields.push(s.directory + id * ENTRY_BYTES + f);
  for (let i = 0; i < s.indexSlots; i++) fields.push(s.index + 4 * i);
  fields.push(s.locks + 4); // the owner's pid half: a dead or live holder
  for (let l = 1; l < c.lockCount; l++) fields.push(s.locks + l * LOCK_BYTES + 4);
  return fields;
}

const edgeValue = fc.oneof(
  fc.constantFrom(0, 1, 2, -1, -2, 3, 7, 8, 9, 0x10000, 0x10001, 0x7fffffff, -0x80000000, 1 << 20, process.pid),
  fc.integer({ min: -0x80000000, max: 0x7fffffff }),
);

/** A base with a few of its steering fields set to edge values, or cut, or grown. */
const corrupted = fc
  .integer({ min: 0, max: BASES.length - 1 })
  .chain((b) => {
    const base = BASES[b] as Base;
    const fields = steeringFields(base.capacity);
    return fc.tuple(
      fc.constant(base),
      fc.array(fc.tuple(fc.constantFrom(...fields), edgeValue), { minLength: 0, maxLength: 5 }),
      fc.constantFrom('keep', 'keep', 'keep', 'cut', 'grow'),
      fc.nat(),
    );
  })
  .map(([base, pokes, size, n]) => {
    let out = Buffer.from(base.bytes);
    for (const [at, v] of pokes) out.writeInt32LE(v, at);
    if (size === 'cut') out = out.subarray(0, n % out.length);
    if (size === 'grow') out = Buffer.concat([out, Buffer.alloc(8 * (1 + (n % 4)))]);
    return out;
  });

const noise = fc.uint8Array({ maxLength: 512 }).map((a) => Buffer.from(a));

/** Runs `fn`; a throw must be a ProxyctlError whose code is one of `codes`. Returns undefined then. */
function attempt<T>(codes: (code: string) => boolean, fn: () => T): T | undefined {
  try {
    return fn();
  } catch (err: unknown) {
    if (err instanceof ProxyctlError && codes(err.code)) return undefined;
    throw err;
  }
}

const shmCode = (code: string): boolean => code.startsWith('PROXYCTL_ERR_SHM_');
const corruptOnly = (code: string): boolean => code === 'PROXYCTL_ERR_SHM_CORRUPT';
const allocCode = (code: string): boolean => code === 'PROXYCTL_ERR_SHM_CORRUPT' || code === 'PROXYCTL_ERR_SHM_LOCK_TIMEOUT' || code === 'PROXYCTL_ERR_STAT_NAME';

/** What a full read copies: each histogram's buckets and each name. It must stay within the file. */
function readCost(region: StatsRegion): number {
  let bytes = 0;
  for (const e of region.entries()) bytes += e.name.length + (e.kind === 'histogram' ? HISTOGRAM_BUCKETS * 8 : 0);
  return bytes;
}

function readFully(region: StatsRegion, fileSize: number): void {
  const cost = attempt(corruptOnly, () => readCost(region));
  if (cost === undefined) return;
  invariant(cost <= fileSize, `a read copies ${cost} bytes out of a ${fileSize}-byte file`);
  const snap = attempt(corruptOnly, () => readSnapshot(region));
  if (snap === undefined) return;
  invariant(snap.counters.size + snap.gauges.size + snap.histograms.size <= region.statCount(), 'a snapshot holds more stats than the region counts');
  JSON.stringify(snapshotToJson(snap));
  region.freeCounts();
}

const target: FuzzTarget = {
  name: 'shm-open',
  generate: fc.oneof({ arbitrary: corrupted, weight: 6 }, { arbitrary: fc.constantFrom(...BASES.map((b) => b.bytes)), weight: 1 }, { arbitrary: noise, weight: 1 }),
  dictionary: [Buffer.from('PXYSTATS'), Buffer.from([2, 0, 0, 0]), Buffer.from([0, 1, 0, 0]), Buffer.from([0xff, 0xff, 0xff, 0xff]), Buffer.from([0xff, 0xff, 0xff, 0x7f]), Buffer.from([0, 0, 0, 0x80])],
  check(input) {
    writeFileSync(PATH, input, { mode: 0o600 });
    const reader = attempt(shmCode, () => StatsRegion.open(PATH, { readOnly: true }));
    if (reader === undefined) return;
    readFully(reader, input.length);

    // An epoch: maps read-write, allocates by name (index lookups, free-list pops, new slots).
    const epoch = attempt(shmCode, () => StatsRegion.open(PATH, { epoch: 1, lockTimeoutMs: 0, onFull: () => {} }));
    invariant(epoch !== undefined, 'a region that opens read-only does not open read-write');
    const known = attempt(corruptOnly, () => [...epoch.entries()].slice(0, 3)) ?? [];
    for (const e of known) attempt(allocCode, () => (e.kind === 'counter' ? epoch.counter(e.name) : e.kind === 'gauge' ? epoch.gauge(e.name, e.combine) : epoch.histogram(e.name)));
    attempt(allocCode, () => epoch.counter('fuzz.new.counter').inc());
    attempt(allocCode, () => epoch.gauge('fuzz.new.gauge').set(1));
    attempt(allocCode, () => epoch.histogram('fuzz.new.histogram').record(5));
    readFully(epoch, input.length);
  },
};
export default target;
