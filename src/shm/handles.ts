import { bucketIndex } from './histogram-buckets.js';
import { EPOCH_LANES, GAUGE_LANES, GaugeCombine, HISTOGRAM_WORDS, type GaugeCombineName } from './layout.js';

/*
 * Stat handles are what hot paths hold. Each one resolves its slot once, at allocation, and
 * then touches memory with a single Atomics op per update: no lookups by name, no locks, no
 * syscalls. `npm run bench` measures one increment against a plain in-process BigInt64Array.
 */

/** A monotonic 64-bit counter shared by every process and thread that maps the region. */
export class Counter {
  constructor(
    readonly name: string,
    private readonly words: BigInt64Array,
    private readonly slot: number,
  ) {}

  inc(): void {
    Atomics.add(this.words, this.slot, 1n);
  }

  /** Adds `n` (>= 0). Counters never go backwards. */
  add(n: number | bigint): void {
    const delta = typeof n === 'bigint' ? n : BigInt(n);
    if (delta < 0n) throw new RangeError(`counter ${this.name}: cannot add ${delta}`);
    Atomics.add(this.words, this.slot, delta);
  }

  value(): bigint {
    return Atomics.load(this.words, this.slot);
  }
}

/**
 * A signed 64-bit gauge with one lane per live epoch plus a supervisor lane. This handle writes
 * only its own lane; the value is the lanes combined by the gauge's rule (sum, or max for
 * gauges such as the hot-restart generation that every epoch sets to the same meaning).
 */
export class Gauge {
  constructor(
    readonly name: string,
    private readonly words: BigInt64Array,
    private readonly first: number,
    private readonly lane: number,
    readonly combine: GaugeCombineName,
  ) {}

  inc(): void {
    Atomics.add(this.words, this.first + this.lane, 1n);
  }

  dec(): void {
    Atomics.sub(this.words, this.first + this.lane, 1n);
  }

  add(delta: number): void {
    Atomics.add(this.words, this.first + this.lane, BigInt(delta));
  }

  /** Sets this process's contribution; other lanes are untouched. */
  set(value: number | bigint): void {
    Atomics.store(this.words, this.first + this.lane, typeof value === 'bigint' ? value : BigInt(value));
  }

  /**
   * Compare-and-swap on this process's lane: stores `replacement` if the lane holds `expected`
   * and returns what the lane held. Worker threads of one epoch share the lane, so this is what
   * lets them keep one piece of state together (the shared rate-limit bucket).
   */
  compareExchange(expected: bigint, replacement: bigint): bigint {
    return Atomics.compareExchange(this.words, this.first + this.lane, expected, replacement);
  }

  /** This process's own contribution. */
  laneValue(): bigint {
    return Atomics.load(this.words, this.first + this.lane);
  }

  value(): bigint {
    return combineLanes(this.words, this.first, GaugeCombine[this.combine]);
  }
}

export function combineLanes(words: BigInt64Array, first: number, rule: number): bigint {
  let acc = rule === GaugeCombine.max ? Atomics.load(words, first) : 0n;
  for (let i = rule === GaugeCombine.max ? 1 : 0; i < GAUGE_LANES; i++) {
    const v = Atomics.load(words, first + i);
    acc = rule === GaugeCombine.max ? (v > acc ? v : acc) : acc + v;
  }
  return acc;
}

/** The lane a process writes: its epoch's, or the supervisor's when it has no epoch. */
export function laneFor(epoch: number | undefined): number {
  return epoch === undefined ? EPOCH_LANES : epoch % EPOCH_LANES;
}

/** A log-linear histogram of non-negative integers (record latencies in microseconds). */
export class Histogram {
  constructor(
    readonly name: string,
    private readonly words: BigInt64Array,
    private readonly first: number,
  ) {}

  record(value: number): void {
    const v = value > 0 ? Math.floor(value) : 0;
    Atomics.add(this.words, this.first + 2 + bucketIndex(v), 1n);
    Atomics.add(this.words, this.first + 1, BigInt(v));
    Atomics.add(this.words, this.first, 1n);
  }
}

/**
 * A handle on memory of this process alone, for a stat the full region refused (OpenOptions
 * `onFull`): the code that counts goes on as if it had its slot, and nobody else sees the value.
 */
export function detachedHandle(name: string, kind: 'counter' | 'gauge' | 'histogram', lane: number, combine: GaugeCombineName): Counter | Gauge | Histogram {
  const words = new BigInt64Array(kind === 'counter' ? 1 : kind === 'gauge' ? GAUGE_LANES : HISTOGRAM_WORDS);
  return kind === 'counter' ? new Counter(name, words, 0) : kind === 'gauge' ? new Gauge(name, words, 0, lane, combine) : new Histogram(name, words, 0);
}
