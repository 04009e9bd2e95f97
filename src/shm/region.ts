import { closeSync, ftruncateSync, openSync, renameSync, unlinkSync, writeSync, constants as fsc } from 'node:fs';
import { ProxyctlError, errnoCode, isProxyctlError } from '../errors.js';
import { Counter, Gauge, Histogram, detachedHandle, laneFor } from './handles.js';
import { readHeader, writeHeader, type RegionHeader } from './header.js';
import { Directory, type RegionEntry } from './directory.js';
import { FreeList } from './free-list.js';
import { SharedLocks } from './locks.js';
import { mapFile } from './mapping.js';
import { NameIndex, hashName, validName } from './name-index.js';
import type { StatsStore } from './types.js';
import {
  DEFAULT_CAPACITY,
  HEADER,
  HEADER_BYTES,
  LOCK_ALLOCATION,
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
  /**
   * When set, a stat the full region refuses gets a handle on this process's own memory
   * (handles.ts `detachedHandle`) instead of PROXYCTL_ERR_SHM_FULL, and the error (counted in
   * the header's overflows first) is passed here. Serving processes set it: a stat with no room
   * must not stop a listener or fail a reload.
   */
  onFull?: (err: ProxyctlError) => void;
}

export type { RegionEntry };

/** Envoy's name for the allocations refused because the region was full: see `#full`. */
export const OVERFLOW_STAT = 'stats.overflow';
const OVERFLOW_STAT_BYTES = Buffer.from(OVERFLOW_STAT, 'utf8');
const OVERFLOW_STAT_HASH = hashName(OVERFLOW_STAT_BYTES);

/**
 * The shared stats region: a file mapped MAP_SHARED by the supervisor, every epoch and every
 * worker thread. Stats are allocated by name under the allocation lock and found without it
 * through an open-addressing index; the first allocator of a name wins and everybody else gets
 * the same slot. Published entries are never moved. They are freed only by `free`, which the
 * supervisor calls for scopes no live epoch uses (src/epoch/supervisor/stat-scopes.ts): only
 * processes that have exited held handles to them. A freed entry is skipped by readers and
 * taken again, slots and all, by a later allocation of the same kind (free-list.ts).
 *
 * Publication order, which readers and crash recovery rely on: name bytes, value words, the
 * directory entry, the used-byte counters, then `statCount`, then the index slot. A reused
 * entry is written in full before its kind word drops the FREED flag, then it is indexed.
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
  readonly #onFull: ((err: ProxyctlError) => void) | null;
  readonly #cache = new Map<string, Counter | Gauge | Histogram>();
  readonly #dir: Directory;
  readonly #index: NameIndex;
  readonly #free: FreeList;

  private constructor(path: string, bytes: Buffer, size: number, opts: OpenOptions) {
    if (bytes.byteOffset % 8 !== 0) throw new Error('stats region mapping is not 8-byte aligned');
    this.path = path;
    this.#bytes = bytes;
    this.header = readHeader(bytes, size, path);
    this.readOnly = opts.readOnly ?? false;
    this.words = new BigInt64Array(bytes.buffer, bytes.byteOffset, size >>> 3);
    this.#i32 = new Int32Array(bytes.buffer, bytes.byteOffset, size >>> 2);
    this.locks = new SharedLocks(bytes, this.header.sections.locks, this.header.capacity.lockCount);
    this.#dir = new Directory(bytes, this.#i32, this.words, this.header, path);
    this.#index = new NameIndex(this.#i32, this.header.sections.index, this.header.sections.indexSlots, path);
    this.#free = new FreeList(this.#i32, this.header.sections.directory);
    this.#lane = laneFor(opts.epoch);
    this.#lockTimeoutMs = opts.lockTimeoutMs ?? 5000;
    this.#onFull = opts.onFull ?? null;
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
    if (n < 0 || n > max) throw this.#dir.corrupt(`stat count ${n} is outside 0..${max}`, { statCount: n });
    return n;
  }

  /** Entries freed since the region was created, and allocations that took a freed entry. */
  freeCounts(): { freed: bigint; reused: bigint } {
    return { freed: Atomics.load(this.words, HEADER.freed >>> 3), reused: Atomics.load(this.words, HEADER.reused >>> 3) };
  }

  /** The published entries that are not freed, each checked against the region's bounds before it is returned. */
  *entries(): Generator<RegionEntry> {
    const n = this.statCount();
    const { nameCapacity, dataCapacity } = this.header.capacity;
    let names = 0;
    let words = 0;
    for (let id = 0; id < n; id++) {
      if (this.#dir.isFreed(id)) continue;
      const e = this.#dir.entry(id);
      // Live entries never share slots, so together they fit the sections. In a damaged file
      // they may alias, and a snapshot copies each histogram's buckets (7 KiB per 32-byte entry).
      names += this.#dir.slots(id).nameLength;
      words += wordsFor(e.kind);
      if (names > nameCapacity || words > dataCapacity) throw this.#dir.corrupt(`entries up to ${id} claim more name bytes or value words than the region has`, { entry: id });
      yield e;
    }
  }

  /**
   * Frees every entry whose name `matches`, under the allocation lock, and returns how many.
   * Only for stats nobody alive holds a handle to: a handle to a freed entry would write into
   * whatever stat takes its slot next. Readers stop showing an entry when it is flagged, and
   * lookups stop finding it when its index slot is tombstoned, before it can be taken again.
   */
  free(matches: (name: string) => boolean): number {
    this.#assertWritable();
    return this.locks.with(LOCK_ALLOCATION, (grant) => {
      if (grant.recovered) this.#repair();
      let n = 0;
      for (const e of this.entries()) {
        if (!matches(e.name)) continue;
        this.#dir.markFreed(e.id);
        this.#index.remove(e.id, hashName(Buffer.from(e.name, 'utf8')));
        this.#free.push(e.id, e.kind);
        this.#cache.delete(e.name);
        n++;
      }
      Atomics.add(this.words, HEADER.freed >>> 3, BigInt(n));
      return n;
    }, this.#lockTimeoutMs);
  }

  /**
   * What `e` (a counter, or a histogram's count) gained since a sink last flushed it, and makes
   * its value now the flushed one. The baseline lives in the region and is claimed by
   * compare-and-swap, so two epochs flushing at once never send one increment twice, and the
   * epoch that becomes active goes on from where the last one stopped.
   */
  takeDelta(e: RegionEntry): bigint {
    this.#assertWritable();
    const slot = this.#dir.flushedWord(e.id);
    for (;;) {
      const last = Atomics.load(this.words, slot);
      const now = Atomics.load(this.words, e.firstWord);
      if (now <= last) return 0n;
      if (Atomics.compareExchange(this.words, slot, last, now) === last) return now - last;
    }
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
      try {
        id = this.locks.with(LOCK_ALLOCATION, (grant) => {
          if (grant.recovered) this.#repair();
          const again = this.#lookup(bytes, hash);
          return again >= 0 ? again : this.#publish(name, bytes, hash, kind, combine);
        }, this.#lockTimeoutMs);
      } catch (err: unknown) {
        if (this.#onFull === null || !isProxyctlError(err, 'PROXYCTL_ERR_SHM_FULL')) throw err;
        this.#onFull(err);
        const detached = detachedHandle(name, kind, this.#lane, combine);
        this.#cache.set(name, detached);
        return detached;
      }
    }
    const entry = this.#dir.entry(id);
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

  /** Finds a published, live entry by name without taking a lock; -1 when absent. */
  #lookup(bytes: Buffer, hash: number): number {
    return this.#index.lookup(hash, this.statCount(), (id) => !this.#dir.isFreed(id) && this.#dir.nameEquals(id, bytes));
  }

  /** Called with the allocation lock held: a freed entry of the same kind if there is one, else new slots. */
  #publish(name: string, bytes: Buffer, hash: number, kind: StatKindName, combine: GaugeCombineName): number {
    const reused = this.#free.pop(kind);
    if (reused >= 0) {
      // The lists live in the file: a damaged one can name any id, a live entry (a cycle gives
      // one twice) or one of another kind, whose value words are fewer. Reusing such an entry
      // wrote outside the mapping or over a live stat.
      if (reused >= this.statCount() || !this.#dir.isFreed(reused) || this.#dir.entry(reused).kind !== kind) {
        throw this.#dir.corrupt(`the ${kind} free list names entry ${reused}, which is not a freed ${kind}`, { entry: reused });
      }
      return this.#reuse(reused, name, bytes, hash, kind, combine);
    }
    const { sections, capacity } = this.header;
    const count = this.statCount();
    const nameUsed = this.#used('nameUsed', capacity.nameCapacity);
    const dataUsed = this.#used('dataUsed', capacity.dataCapacity);
    const words = wordsFor(kind);
    const lacking = count >= capacity.maxStats ? 'entries' : nameUsed + bytes.length > capacity.nameCapacity ? 'name bytes' : dataUsed + words > capacity.dataCapacity ? 'value words' : undefined;
    if (lacking !== undefined) throw this.#full(name, kind, lacking);
    bytes.copy(this.#bytes, sections.names + nameUsed);
    const first = (sections.data >>> 3) + dataUsed;
    this.words.fill(0n, first, first + words);
    this.#dir.write(count, { nameOffset: nameUsed, nameLength: bytes.length, nameRoom: bytes.length, dataWord: dataUsed }, kind, combine);
    Atomics.store(this.#i32, HEADER.nameUsed >>> 2, nameUsed + bytes.length);
    Atomics.store(this.#i32, HEADER.dataUsed >>> 2, dataUsed + words);
    Atomics.store(this.#i32, HEADER.statCount >>> 2, count + 1);
    this.#index.insert(count, hash);
    return count;
  }

  /** Gives freed entry `id` a new name: its value words are zeroed, its name slot kept if the name fits. */
  #reuse(id: number, name: string, bytes: Buffer, hash: number, kind: StatKindName, combine: GaugeCombineName): number {
    const { sections, capacity } = this.header;
    const slots = this.#dir.slots(id);
    if (bytes.length > slots.nameRoom) {
      const nameUsed = this.#used('nameUsed', capacity.nameCapacity);
      if (nameUsed + bytes.length > capacity.nameCapacity) {
        this.#free.push(id, kind);
        throw this.#full(name, kind, 'name bytes');
      }
      Atomics.store(this.#i32, HEADER.nameUsed >>> 2, nameUsed + bytes.length);
      slots.nameOffset = nameUsed;
      slots.nameRoom = bytes.length;
    }
    bytes.copy(this.#bytes, sections.names + slots.nameOffset);
    const first = (sections.data >>> 3) + slots.dataWord;
    this.words.fill(0n, first, first + wordsFor(kind));
    this.#dir.write(id, { ...slots, nameLength: bytes.length }, kind, combine);
    this.#index.insert(id, hash);
    Atomics.add(this.words, HEADER.reused >>> 3, 1n);
    return id;
  }

  /**
   * A used-space counter, which says where the next name or value goes. Checked like `statCount`:
   * a negative one passed the room check and wrote before its section, over the locks.
   */
  #used(field: 'nameUsed' | 'dataUsed', capacity: number): number {
    const n = Atomics.load(this.#i32, HEADER[field] >>> 2);
    if (n < 0 || n > capacity) throw this.#dir.corrupt(`${field} ${n} is outside 0..${capacity}`, { [field]: n });
    return n;
  }

  #full(name: string, kind: StatKindName, lacking: string): ProxyctlError {
    Atomics.add(this.words, HEADER.overflows >>> 3, 1n);
    // Also as a stat when one was made for it (the supervisor makes it first, so it has room).
    const stat = this.#lookup(OVERFLOW_STAT_BYTES, OVERFLOW_STAT_HASH);
    if (stat >= 0) Atomics.add(this.words, this.#dir.entry(stat).firstWord, 1n);
    return new ProxyctlError('PROXYCTL_ERR_SHM_FULL', `stats region ${this.path} is full (no ${lacking} left) allocating ${kind} "${name}"; raise its capacity`, { path: this.path, name, kind, lacking, statCount: this.statCount() });
  }

  /**
   * After taking over the allocation lock from a dead holder: the holder may have died at any
   * point of the publication order. Entries up to `statCount` are complete; make the used
   * counters cover them (freed entries too: their slots wait for reuse), put back any live
   * entry the index is missing, drop freed ones it still has, and chain the free lists again
   * (an entry popped by the dead holder and not yet live goes back). Bytes a dead holder wrote
   * past the counters are simply overwritten by the next allocation.
   */
  #repair(): void {
    let nameEnd = 0;
    let dataEnd = 0;
    this.#free.clear();
    const n = this.statCount();
    for (let id = 0; id < n; id++) {
      const e = this.#dir.entry(id);
      const slots = this.#dir.slots(id);
      nameEnd = Math.max(nameEnd, slots.nameOffset + slots.nameRoom);
      dataEnd = Math.max(dataEnd, slots.dataWord + wordsFor(e.kind));
      const bytes = Buffer.from(e.name, 'utf8');
      const hash = hashName(bytes);
      if (this.#dir.isFreed(id)) {
        this.#index.remove(id, hash);
        this.#free.push(id, e.kind);
      } else if (this.#lookup(bytes, hash) !== id) this.#index.insert(id, hash);
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
