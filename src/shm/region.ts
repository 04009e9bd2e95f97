import { closeSync, ftruncateSync, openSync, renameSync, unlinkSync, writeSync, constants as fsc } from 'node:fs';
import { ProxyctlError, errnoCode } from '../errors.js';
import { Counter, Gauge, Histogram, laneFor } from './handles.js';
import { readHeader, writeHeader, type RegionHeader } from './header.js';
import { SharedLocks } from './locks.js';
import { mapFile } from './mapping.js';
import type { StatsStore } from './types.js';
import {
  DEFAULT_CAPACITY,
  ENTRY,
  ENTRY_BYTES,
  GaugeCombine,
  HEADER,
  HEADER_BYTES,
  LOCK_ALLOCATION,
  MAX_NAME_BYTES,
  StatKind,
  sectionOffsets,
  wordsFor,
  type GaugeCombineName,
  type RegionCapacity,
  type StatKindName,
} from './layout.js';

export interface OpenOptions {
  /** Map read-only (`proxyctl stats`). Handles cannot be made; `entries()` and snapshots can. */
  readOnly?: boolean;
  /** The epoch this process serves, which picks its gauge lane. Omit in the supervisor. */
  epoch?: number;
  /** How long an allocation waits for the allocation lock held by a live process. */
  lockTimeoutMs?: number;
}

/** One published stat as stored in the directory. */
export interface RegionEntry {
  id: number;
  kind: StatKindName;
  name: string;
  /** Index of the first value word in `StatsRegion.words`. */
  firstWord: number;
  combine: GaugeCombineName;
}

const KIND_NAMES: Record<number, StatKindName> = { [StatKind.counter]: 'counter', [StatKind.gauge]: 'gauge', [StatKind.histogram]: 'histogram' };
const COMBINE_NAMES: Record<number, GaugeCombineName> = { [GaugeCombine.sum]: 'sum', [GaugeCombine.max]: 'max' };
// biome-ignore lint/suspicious/noControlCharactersInRegex: a stat name must not hold control characters
const NAME_FORBIDDEN = /[\u0000-\u001f\u007f]/;

/** FNV-1a over the name's UTF-8 bytes: allocation only, never per update. */
function hashName(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ (bytes[i] as number), 0x01000193);
  return h >>> 0;
}

/**
 * The shared stats region: a file mapped MAP_SHARED by the supervisor, every epoch and every
 * worker thread. Stats are allocated by name under the allocation lock and found without it
 * through an open-addressing index; the first allocator of a name wins and everybody else gets
 * the same slot. Published entries are never moved or freed, so handles stay valid for the
 * life of the mapping.
 *
 * Publication order, which readers and crash recovery rely on: name bytes, value words, the
 * directory entry, the used-byte counters, then `statCount`, then the index slot.
 */
export class StatsRegion implements StatsStore {
  readonly path: string;
  readonly header: RegionHeader;
  readonly readOnly: boolean;
  readonly locks: SharedLocks;
  /** The whole region as 64-bit words (values, counters in the header). */
  readonly words: BigInt64Array;
  readonly #bytes: Buffer;
  readonly #i32: Int32Array;
  readonly #lane: number;
  readonly #lockTimeoutMs: number;
  readonly #cache = new Map<string, Counter | Gauge | Histogram>();

  private constructor(path: string, bytes: Buffer, size: number, opts: OpenOptions) {
    if (bytes.byteOffset % 8 !== 0) throw new Error('stats region mapping is not 8-byte aligned');
    this.path = path;
    this.#bytes = bytes;
    this.header = readHeader(bytes, size, path);
    this.readOnly = opts.readOnly ?? false;
    this.words = new BigInt64Array(bytes.buffer, bytes.byteOffset, size >>> 3);
    this.#i32 = new Int32Array(bytes.buffer, bytes.byteOffset, size >>> 2);
    this.locks = new SharedLocks(bytes, this.header.sections.locks, this.header.capacity.lockCount);
    this.#lane = laneFor(opts.epoch);
    this.#lockTimeoutMs = opts.lockTimeoutMs ?? 5000;
  }

  /**
   * Creates a fresh region at `path`, replacing any file there. The file is built under a
   * temporary name and renamed into place, so nobody ever maps a half-written header.
   */
  static create(path: string, capacity: Partial<RegionCapacity> = {}, opts: OpenOptions = {}): StatsRegion {
    const cap: RegionCapacity = { ...DEFAULT_CAPACITY, ...capacity };
    const tmp = `${path}.${process.pid}.tmp`;
    try {
      const header = Buffer.alloc(HEADER_BYTES);
      writeHeader(header, cap);
      const fd = openSync(tmp, fsc.O_RDWR | fsc.O_CREAT | fsc.O_TRUNC, 0o600);
      try {
        writeSync(fd, header, 0, HEADER_BYTES, 0);
        ftruncateSync(fd, sectionOffsets(cap).total); // sparse: pages cost memory only once touched
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, path);
    } catch (err: unknown) {
      try {
        unlinkSync(tmp);
      } catch {
        // nothing to clean up
      }
      if (err instanceof ProxyctlError) throw err;
      throw new ProxyctlError('PROXYCTL_ERR_SHM_IO', `cannot create stats region ${path}: ${errnoCode(err) ?? String(err)}`, { path, errno: errnoCode(err) }, { cause: err });
    }
    return StatsRegion.open(path, opts);
  }

  /** Maps an existing region, refusing it with PROXYCTL_ERR_SHM_INCOMPATIBLE if it is not ours. */
  static open(path: string, opts: OpenOptions = {}): StatsRegion {
    const m = mapFile(path, opts.readOnly ?? false, HEADER_BYTES);
    return new StatsRegion(path, m.bytes, m.size, opts);
  }

  counter(name: string): Counter {
    return this.#handle(name, 'counter', 'sum') as Counter;
  }

  gauge(name: string, combine: GaugeCombineName = 'sum'): Gauge {
    return this.#handle(name, 'gauge', combine) as Gauge;
  }

  histogram(name: string): Histogram {
    return this.#handle(name, 'histogram', 'sum') as Histogram;
  }

  /** Removes one epoch's contribution from every gauge: the supervisor calls it when an epoch dies. */
  clearLane(epoch: number): void {
    this.#assertWritable();
    const lane = laneFor(epoch);
    for (const e of this.entries()) {
      if (e.kind === 'gauge') Atomics.store(this.words, e.firstWord + lane, 0n);
    }
  }

  /** Allocations refused because the region was full, since it was created. */
  overflows(): bigint {
    return Atomics.load(this.words, HEADER.overflows >>> 3);
  }

  statCount(): number {
    const n = Atomics.load(this.#i32, HEADER.statCount >>> 2);
    const max = this.header.capacity.maxStats;
    if (n < 0 || n > max) throw this.#corrupt(`stat count ${n} is outside 0..${max}`, { statCount: n });
    return n;
  }

  /** The published entries, each checked against the region's bounds before it is returned. */
  *entries(): Generator<RegionEntry> {
    const n = this.statCount();
    for (let id = 0; id < n; id++) yield this.#entry(id);
  }

  #entry(id: number): RegionEntry {
    const { sections, capacity } = this.header;
    const at = (sections.directory + id * ENTRY_BYTES) >>> 2;
    const kindWord = this.#i32[at + (ENTRY.kind >>> 2)] as number;
    const nameOffset = this.#i32[at + (ENTRY.nameOffset >>> 2)] as number;
    const nameLength = this.#i32[at + (ENTRY.nameLength >>> 2)] as number;
    const dataWord = this.#i32[at + (ENTRY.dataWord >>> 2)] as number;
    const kind = KIND_NAMES[kindWord & 0xff];
    const combine = COMBINE_NAMES[(kindWord >>> 8) & 0xff];
    if (kind === undefined || combine === undefined) throw this.#corrupt(`entry ${id} has unknown kind word 0x${kindWord.toString(16)}`, { entry: id });
    if (nameOffset < 0 || nameLength < 1 || nameLength > MAX_NAME_BYTES || nameOffset + nameLength > capacity.nameCapacity) {
      throw this.#corrupt(`entry ${id} names bytes outside the names section`, { entry: id });
    }
    if (dataWord < 0 || dataWord + wordsFor(kind) > capacity.dataCapacity) throw this.#corrupt(`entry ${id} points outside the data section`, { entry: id });
    const nameStart = sections.names + nameOffset;
    const name = this.#bytes.toString('utf8', nameStart, nameStart + nameLength);
    return { id, kind, name, firstWord: (sections.data >>> 3) + dataWord, combine };
  }

  #corrupt(why: string, details: Record<string, unknown>): ProxyctlError {
    return new ProxyctlError('PROXYCTL_ERR_SHM_CORRUPT', `stats region ${this.path}: ${why}`, { path: this.path, ...details });
  }

  #assertWritable(): void {
    if (this.readOnly) throw new Error(`stats region ${this.path} is mapped read-only`);
  }

  #handle(name: string, kind: StatKindName, combine: GaugeCombineName): Counter | Gauge | Histogram {
    const cached = this.#cache.get(name);
    if (cached !== undefined) {
      if (kindOf(cached) !== kind) throw kindClash(name, kindOf(cached), kind);
      return cached;
    }
    this.#assertWritable();
    const bytes = validName(name);
    const hash = hashName(bytes);
    let id = this.#lookup(bytes, hash);
    if (id < 0) {
      id = this.locks.with(LOCK_ALLOCATION, (grant) => {
        if (grant.recovered) this.#repair();
        const again = this.#lookup(bytes, hash);
        return again >= 0 ? again : this.#publish(name, bytes, hash, kind, combine);
      }, this.#lockTimeoutMs);
    }
    const entry = this.#entry(id);
    if (entry.kind !== kind) throw kindClash(name, entry.kind, kind);
    const handle =
      kind === 'counter'
        ? new Counter(name, this.words, entry.firstWord)
        : kind === 'gauge'
          ? new Gauge(name, this.words, entry.firstWord, this.#lane, entry.combine)
          : new Histogram(name, this.words, entry.firstWord);
    this.#cache.set(name, handle);
    return handle;
  }

  /** Finds a published entry by name without taking a lock; -1 when absent. */
  #lookup(bytes: Buffer, hash: number): number {
    const { sections } = this.header;
    const mask = sections.indexSlots - 1;
    const base = sections.index >>> 2;
    const count = this.statCount();
    for (let probe = 0, i = hash & mask; probe < sections.indexSlots; probe++, i = (i + 1) & mask) {
      const v = Atomics.load(this.#i32, base + i);
      if (v === 0) return -1;
      const id = v - 1;
      if (id < count && this.#nameEquals(id, bytes)) return id;
    }
    return -1;
  }

  #nameEquals(id: number, bytes: Buffer): boolean {
    const at = (this.header.sections.directory + id * ENTRY_BYTES) >>> 2;
    if (this.#i32[at + (ENTRY.nameLength >>> 2)] !== bytes.length) return false; // lengths before bytes
    const start = this.header.sections.names + (this.#i32[at + (ENTRY.nameOffset >>> 2)] as number);
    return this.#bytes.compare(bytes, 0, bytes.length, start, start + bytes.length) === 0;
  }

  #insertIndex(id: number, hash: number): void {
    const { sections } = this.header;
    const mask = sections.indexSlots - 1;
    const base = sections.index >>> 2;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      if (Atomics.compareExchange(this.#i32, base + i, 0, id + 1) === 0) return;
    }
  }

  /** Called with the allocation lock held. */
  #publish(name: string, bytes: Buffer, hash: number, kind: StatKindName, combine: GaugeCombineName): number {
    const { sections, capacity } = this.header;
    const count = this.statCount();
    const nameUsed = Atomics.load(this.#i32, HEADER.nameUsed >>> 2);
    const dataUsed = Atomics.load(this.#i32, HEADER.dataUsed >>> 2);
    const words = wordsFor(kind);
    const lacking = count >= capacity.maxStats ? 'entries' : nameUsed + bytes.length > capacity.nameCapacity ? 'name bytes' : dataUsed + words > capacity.dataCapacity ? 'value words' : undefined;
    if (lacking !== undefined) {
      Atomics.add(this.words, HEADER.overflows >>> 3, 1n);
      throw new ProxyctlError('PROXYCTL_ERR_SHM_FULL', `stats region ${this.path} is full (no ${lacking} left) allocating ${kind} "${name}"; raise its capacity`, { path: this.path, name, kind, lacking, statCount: count });
    }
    bytes.copy(this.#bytes, sections.names + nameUsed);
    const first = (sections.data >>> 3) + dataUsed;
    this.words.fill(0n, first, first + words);
    const at = (sections.directory + count * ENTRY_BYTES) >>> 2;
    this.#i32[at + (ENTRY.kind >>> 2)] = StatKind[kind] | (GaugeCombine[combine] << 8);
    this.#i32[at + (ENTRY.nameOffset >>> 2)] = nameUsed;
    this.#i32[at + (ENTRY.nameLength >>> 2)] = bytes.length;
    this.#i32[at + (ENTRY.dataWord >>> 2)] = dataUsed;
    Atomics.store(this.#i32, HEADER.nameUsed >>> 2, nameUsed + bytes.length);
    Atomics.store(this.#i32, HEADER.dataUsed >>> 2, dataUsed + words);
    Atomics.store(this.#i32, HEADER.statCount >>> 2, count + 1);
    this.#insertIndex(count, hash);
    return count;
  }

  /**
   * After taking over the allocation lock from a dead holder: the holder may have died at any
   * point of the publication order. Entries up to `statCount` are complete; make the used
   * counters cover them and put back any entry the index is missing. Bytes a dead holder
   * wrote past the counters are simply overwritten by the next allocation.
   */
  #repair(): void {
    let nameEnd = 0;
    let dataEnd = 0;
    for (const e of this.entries()) {
      const bytes = Buffer.from(e.name, 'utf8');
      const at = (this.header.sections.directory + e.id * ENTRY_BYTES) >>> 2;
      nameEnd = Math.max(nameEnd, (this.#i32[at + (ENTRY.nameOffset >>> 2)] as number) + bytes.length);
      dataEnd = Math.max(dataEnd, (this.#i32[at + (ENTRY.dataWord >>> 2)] as number) + wordsFor(e.kind));
      const hash = hashName(bytes);
      if (this.#lookup(bytes, hash) !== e.id) this.#insertIndex(e.id, hash);
    }
    if (Atomics.load(this.#i32, HEADER.nameUsed >>> 2) < nameEnd) Atomics.store(this.#i32, HEADER.nameUsed >>> 2, nameEnd);
    if (Atomics.load(this.#i32, HEADER.dataUsed >>> 2) < dataEnd) Atomics.store(this.#i32, HEADER.dataUsed >>> 2, dataEnd);
  }
}

function kindOf(h: Counter | Gauge | Histogram): StatKindName {
  return h instanceof Counter ? 'counter' : h instanceof Gauge ? 'gauge' : 'histogram';
}

function kindClash(name: string, have: StatKindName, want: StatKindName): ProxyctlError {
  return new ProxyctlError('PROXYCTL_ERR_STAT_NAME', `stat "${name}" already exists as a ${have}, not a ${want}`, { name, have, want });
}

function validName(name: string): Buffer {
  const bytes = Buffer.from(name, 'utf8');
  if (bytes.length === 0 || bytes.length > MAX_NAME_BYTES || NAME_FORBIDDEN.test(name)) {
    throw new ProxyctlError('PROXYCTL_ERR_STAT_NAME', `stat name must be 1 to ${MAX_NAME_BYTES} bytes without control characters (got ${bytes.length} bytes)`, { name: name.slice(0, 80), bytes: bytes.length });
  }
  return bytes;
}
