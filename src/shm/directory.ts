import { ProxyctlError } from '../errors.js';
import type { RegionHeader } from './header.js';
import { ENTRY, ENTRY_BYTES, ENTRY_FREED, GaugeCombine, MAX_NAME_BYTES, StatKind, wordsFor, type GaugeCombineName, type StatKindName } from './layout.js';

/** One published stat as stored in the directory. */
export interface RegionEntry {
  id: number;
  kind: StatKindName;
  name: string;
  /** Index of the first value word in `StatsRegion.words`. */
  firstWord: number;
  combine: GaugeCombineName;
}

/** Where an entry's slots are, as `Directory.write` stores them. */
export interface EntrySlots {
  nameOffset: number;
  nameLength: number;
  nameRoom: number;
  dataWord: number;
}

const KIND_NAMES: Record<number, StatKindName> = { [StatKind.counter]: 'counter', [StatKind.gauge]: 'gauge', [StatKind.histogram]: 'histogram' };
const COMBINE_NAMES: Record<number, GaugeCombineName> = { [GaugeCombine.sum]: 'sum', [GaugeCombine.max]: 'max' };

/**
 * The region's directory: fixed-size entries (layout.ts ENTRY) that say each stat's kind, where
 * its name and value words are, whether it is freed, and what a sink last flushed. Decoding
 * checks every offset against the region's bounds, so a damaged file gives
 * PROXYCTL_ERR_SHM_CORRUPT instead of reads outside the mapping.
 */
export class Directory {
  readonly #i32: Int32Array;
  readonly #words: BigInt64Array;
  readonly #bytes: Buffer;
  readonly #header: RegionHeader;
  readonly #path: string;

  constructor(bytes: Buffer, i32: Int32Array, words: BigInt64Array, header: RegionHeader, path: string) {
    this.#bytes = bytes;
    this.#i32 = i32;
    this.#words = words;
    this.#header = header;
    this.#path = path;
  }

  #at(id: number): number {
    return (this.#header.sections.directory + id * ENTRY_BYTES) >>> 2;
  }

  /** Entry `id`, freed or not, checked against the region's bounds. */
  entry(id: number): RegionEntry {
    const { sections, capacity } = this.#header;
    const at = this.#at(id);
    const kindWord = Atomics.load(this.#i32, at + (ENTRY.kind >>> 2));
    const { nameOffset, nameLength, nameRoom, dataWord } = this.slots(id);
    const kind = KIND_NAMES[kindWord & 0xff];
    const combine = COMBINE_NAMES[(kindWord >>> 8) & 0xff];
    if (kind === undefined || combine === undefined) throw this.corrupt(`entry ${id} has unknown kind word 0x${kindWord.toString(16)}`, { entry: id });
    if (nameOffset < 0 || nameLength < 1 || nameLength > MAX_NAME_BYTES || nameLength > nameRoom || nameOffset + nameRoom > capacity.nameCapacity) {
      throw this.corrupt(`entry ${id} names bytes outside the names section`, { entry: id });
    }
    if (dataWord < 0 || dataWord + wordsFor(kind) > capacity.dataCapacity) throw this.corrupt(`entry ${id} points outside the data section`, { entry: id });
    const nameStart = sections.names + nameOffset;
    const name = this.#bytes.toString('utf8', nameStart, nameStart + nameLength);
    return { id, kind, name, firstWord: (sections.data >>> 3) + dataWord, combine };
  }

  slots(id: number): EntrySlots {
    const at = this.#at(id);
    return {
      nameOffset: this.#i32[at + (ENTRY.nameOffset >>> 2)] as number,
      nameLength: this.#i32[at + (ENTRY.nameLength >>> 2)] as number,
      nameRoom: this.#i32[at + (ENTRY.nameRoom >>> 2)] as number,
      dataWord: this.#i32[at + (ENTRY.dataWord >>> 2)] as number,
    };
  }

  isFreed(id: number): boolean {
    return (Atomics.load(this.#i32, this.#at(id) + (ENTRY.kind >>> 2)) & ENTRY_FREED) !== 0;
  }

  markFreed(id: number): void {
    const at = this.#at(id) + (ENTRY.kind >>> 2);
    Atomics.store(this.#i32, at, (this.#i32[at] as number) | ENTRY_FREED);
  }

  /** Lengths before bytes: most candidates differ in length. */
  nameEquals(id: number, bytes: Buffer): boolean {
    const at = this.#at(id);
    if (this.#i32[at + (ENTRY.nameLength >>> 2)] !== bytes.length) return false;
    const start = this.#header.sections.names + (this.#i32[at + (ENTRY.nameOffset >>> 2)] as number);
    return this.#bytes.compare(bytes, 0, bytes.length, start, start + bytes.length) === 0;
  }

  /**
   * Writes entry `id` (its name bytes and value words must already be in place) with a zero
   * flush baseline; the kind word goes last, which makes a reused entry live again.
   */
  write(id: number, s: EntrySlots, kind: StatKindName, combine: GaugeCombineName): void {
    const at = this.#at(id);
    this.#i32[at + (ENTRY.nameOffset >>> 2)] = s.nameOffset;
    this.#i32[at + (ENTRY.nameLength >>> 2)] = s.nameLength;
    this.#i32[at + (ENTRY.nameRoom >>> 2)] = s.nameRoom;
    this.#i32[at + (ENTRY.dataWord >>> 2)] = s.dataWord;
    this.#i32[at + (ENTRY.nextFree >>> 2)] = 0;
    Atomics.store(this.#words, this.flushedWord(id), 0n);
    Atomics.store(this.#i32, at + (ENTRY.kind >>> 2), StatKind[kind] | (GaugeCombine[combine] << 8));
  }

  /** Index in the region's words of entry `id`'s flush baseline. */
  flushedWord(id: number): number {
    return (this.#header.sections.directory + id * ENTRY_BYTES + ENTRY.flushed) >>> 3;
  }

  corrupt(why: string, details: Record<string, unknown>): ProxyctlError {
    return new ProxyctlError('PROXYCTL_ERR_SHM_CORRUPT', `stats region ${this.#path}: ${why}`, { path: this.#path, ...details });
  }
}
