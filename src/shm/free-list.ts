import { ENTRY, ENTRY_BYTES, HEADER, StatKind, type StatKindName } from './layout.js';

/**
 * Freed directory entries, one list per stat kind, chained through the entries' `nextFree`
 * field with the heads in the header. A freed entry keeps its value words (a counter's one, a
 * histogram's many) and its name slot, so taking one of the same kind never needs a size
 * search: kinds are the size classes. Every operation runs under the allocation lock; after a
 * holder died, `rebuild` makes the lists again from the entries' FREED flags.
 */
export class FreeList {
  readonly #i32: Int32Array;
  readonly #directory: number;

  constructor(i32: Int32Array, directoryByteOffset: number) {
    this.#i32 = i32;
    this.#directory = directoryByteOffset;
  }

  push(id: number, kind: StatKindName): void {
    const head = (HEADER.freeHeads >>> 2) + StatKind[kind];
    this.#i32[this.#next(id)] = this.#i32[head] as number;
    Atomics.store(this.#i32, head, id + 1);
  }

  /** Takes a freed entry of `kind`, or -1 when there is none. */
  pop(kind: StatKindName): number {
    const head = (HEADER.freeHeads >>> 2) + StatKind[kind];
    const first = this.#i32[head] as number;
    if (first === 0) return -1;
    Atomics.store(this.#i32, head, this.#i32[this.#next(first - 1)] as number);
    return first - 1;
  }

  /** Empties every list; `push` then puts back what the directory says is freed. */
  clear(): void {
    for (const k of Object.values(StatKind)) Atomics.store(this.#i32, (HEADER.freeHeads >>> 2) + k, 0);
  }

  #next(id: number): number {
    return (this.#directory + id * ENTRY_BYTES + ENTRY.nextFree) >>> 2;
  }
}
