import { ProxyctlError } from '../errors.js';
import { INDEX_TOMBSTONE, MAX_NAME_BYTES } from './layout.js';

// biome-ignore lint/suspicious/noControlCharactersInRegex: a stat name must not hold control characters
const NAME_FORBIDDEN = /[\u0000-\u001f\u007f]/;

/** A stat name's UTF-8 bytes, or PROXYCTL_ERR_STAT_NAME: names are never truncated. */
export function validName(name: string): Buffer {
  const bytes = Buffer.from(name, 'utf8');
  if (bytes.length === 0 || bytes.length > MAX_NAME_BYTES || NAME_FORBIDDEN.test(name)) {
    throw new ProxyctlError('PROXYCTL_ERR_STAT_NAME', `stat name must be 1 to ${MAX_NAME_BYTES} bytes without control characters (got ${bytes.length} bytes)`, { name: name.slice(0, 80), bytes: bytes.length });
  }
  return bytes;
}

/** FNV-1a over the name's UTF-8 bytes: allocation only, never per update. */
export function hashName(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ (bytes[i] as number), 0x01000193);
  return h >>> 0;
}

/**
 * The region's open-addressing index from name to entry id, with linear probing. A slot holds
 * id + 1, 0 when it was never used, or INDEX_TOMBSTONE once its entry was freed: a lookup
 * probes past a tombstone (the name it seeks may sit further on), an insert takes the first
 * free or tombstoned slot. Lookups take no lock; inserts and removals run under the region's
 * allocation lock.
 */
export class NameIndex {
  readonly #i32: Int32Array;
  readonly #base: number;
  readonly #slots: number;
  readonly #path: string;

  constructor(i32: Int32Array, byteOffset: number, slots: number, path: string) {
    this.#i32 = i32;
    this.#path = path;
    this.#base = byteOffset >>> 2;
    this.#slots = slots;
  }

  /** The id whose name `matches`, or -1. `matches` gets candidate ids below `count`. */
  lookup(hash: number, count: number, matches: (id: number) => boolean): number {
    const mask = this.#slots - 1;
    for (let probe = 0, i = hash & mask; probe < this.#slots; probe++, i = (i + 1) & mask) {
      const v = Atomics.load(this.#i32, this.#base + i);
      if (v === 0) return -1;
      if (v === INDEX_TOMBSTONE) continue;
      const id = v - 1;
      // Only the allocator writes slots, and only ids it has published, so an id past `count`
      // is one published after `count` was read. A negative one is damage: skipped the same
      // way, never used to index the directory (it threw RangeError there).
      if (id >= 0 && id < count && matches(id)) return id;
    }
    return -1;
  }

  /**
   * Takes the first empty or tombstoned slot on `hash`'s path. The index has twice as many
   * slots as the region has entries, so one is always free unless the file is damaged: then
   * PROXYCTL_ERR_SHM_CORRUPT after one lap, not a loop forever.
   */
  insert(id: number, hash: number): void {
    const mask = this.#slots - 1;
    for (let probe = 0, i = hash & mask; probe < this.#slots; probe++, i = (i + 1) & mask) {
      const v = Atomics.load(this.#i32, this.#base + i);
      if ((v === 0 || v === INDEX_TOMBSTONE) && Atomics.compareExchange(this.#i32, this.#base + i, v, id + 1) === v) return;
    }
    throw new ProxyctlError('PROXYCTL_ERR_SHM_CORRUPT', `stats region ${this.#path}: the name index has no free slot for entry ${id}`, { path: this.#path, entry: id });
  }

  /** Tombstones the slot that holds `id` (found along `hash`'s probe path). */
  remove(id: number, hash: number): void {
    const mask = this.#slots - 1;
    for (let probe = 0, i = hash & mask; probe < this.#slots; probe++, i = (i + 1) & mask) {
      const v = Atomics.load(this.#i32, this.#base + i);
      if (v === 0) return;
      if (v === id + 1) {
        Atomics.store(this.#i32, this.#base + i, INDEX_TOMBSTONE);
        return;
      }
    }
  }
}
