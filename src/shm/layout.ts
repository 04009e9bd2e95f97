/**
 * Byte layout of the stats region. Every number here is part of the on-disk contract: change
 * any of them and STATS_LAYOUT_VERSION must go up, because another process (an older epoch, a
 * running `proxyctl stats`) may be reading the same file with the old numbers.
 *
 *   offset            section     size                         contents
 *   0                 header      256 B                        see HEADER below
 *   256               locks       lockCount × 32 B             owner (pid<<32 | token), acquiredAtMs, recoveries
 *   locks end         directory   maxStats × 32 B              see ENTRY below
 *   directory end     index       indexSlots × 4 B             open-addressing hash: entry id + 1, 0 = empty, -1 = freed
 *   index end         names       nameCapacity B (8-aligned)   UTF-8 stat names, back to back
 *   names end         data        dataCapacity × 8 B           64-bit value slots
 *
 * All multi-byte fields are little-endian (the host order on every platform Node supports here).
 */

/**
 * 2: entries can be freed (a FREED flag, per-kind free lists, index tombstones) and carry the
 * value a sink last flushed. Hot restart refuses a peer with another version, so an upgrade
 * across it is a cold restart.
 */
export const STATS_LAYOUT_VERSION = 2;

/** "PXYSTATS" as a little-endian u64. */
export const MAGIC = 0x5354415453595850n;

export const HEADER_BYTES = 256;
/** Byte offsets of header fields. */
export const HEADER = {
  magic: 0, // u64
  layoutVersion: 8, // u32
  headerBytes: 12, // u32
  totalBytes: 16, // u64
  maxStats: 24, // u32
  nameCapacity: 28, // u32, bytes
  dataCapacity: 32, // u32, 8-byte words
  lockCount: 36, // u32
  gaugeLanes: 40, // u32
  histogramBuckets: 44, // u32
  flags: 48, // u32, reserved: always 0 in version 1
  creatorPid: 52, // u32
  createdAtMs: 56, // u64
  statCount: 64, // i32, atomic: entries [0, statCount) are published
  nameUsed: 68, // i32, bytes handed out in the names section
  dataUsed: 72, // i32, words handed out in the data section
  indexSlots: 76, // u32
  overflows: 80, // i64, atomic: allocations refused because the region was full
  freeHeads: 88, // 4 × i32 by StatKind (0 unused): first freed entry id + 1 of that kind, 0 = none
  freed: 104, // i64: entries freed since the region was created
  reused: 112, // i64: allocations that took a freed entry
} as const;

export const LOCK_BYTES = 32;
export const LOCK = { owner: 0, acquiredAtMs: 8, recoveries: 16 } as const;
/** Lock ids. Allocation is the only user today; the table is sized for more. */
export const LOCK_ALLOCATION = 0;
export const DEFAULT_LOCK_COUNT = 8;

export const ENTRY_BYTES = 32;
/**
 * A directory entry. `nameRoom` is the bytes its name slot holds (a reused entry may carry a
 * shorter name); `nextFree` chains freed entries of one kind (id + 1, 0 = end); `flushed` is
 * the value (a histogram's count) a sink last sent, shared so a delta is sent once by whichever
 * epoch claims it.
 */
export const ENTRY = { kind: 0, nameOffset: 4, nameLength: 8, dataWord: 12, nameRoom: 16, nextFree: 20, flushed: 24 } as const;
/** Set in an entry's kind word once it is freed: readers skip it, its slots wait for reuse. */
export const ENTRY_FREED = 1 << 16;
/** An index slot whose entry was freed: lookups probe past it, inserts may take it. */
export const INDEX_TOMBSTONE = -1;

/** Stat kinds as stored in the low byte of an entry's kind word. */
export const StatKind = { counter: 1, gauge: 2, histogram: 3 } as const;
export type StatKindName = keyof typeof StatKind;
/** Gauge combine rule, stored in bits 8..15 of the kind word. */
export const GaugeCombine = { sum: 0, max: 1 } as const;
export type GaugeCombineName = keyof typeof GaugeCombine;

/**
 * Gauges keep one lane per live epoch (epoch % EPOCH_LANES) plus one lane for the supervisor,
 * which is never cleared with an epoch. At most three epochs are live at once, so four epoch
 * lanes never collide.
 */
export const EPOCH_LANES = 4;
export const GAUGE_LANES = EPOCH_LANES + 1;
export const SUPERVISOR_LANE = EPOCH_LANES;

/**
 * Histograms are log-linear: values below 2^SUB_BITS get a bucket each, and every power of two
 * above that is split into 2^(SUB_BITS-1) equal buckets, so a bucket is at most 1/32 (3.1 %) as
 * wide as its lower bound. With values in microseconds and a u32 range this covers 1 µs to
 * about 71 minutes; larger values land in the last bucket.
 */
export const HISTOGRAM_SUB_BITS = 6;
export const HISTOGRAM_BUCKETS = (1 << HISTOGRAM_SUB_BITS) + (32 - HISTOGRAM_SUB_BITS) * (1 << (HISTOGRAM_SUB_BITS - 1));
/** Words of a histogram slot: count, sum, then the buckets. */
export const HISTOGRAM_WORDS = 2 + HISTOGRAM_BUCKETS;

/** Longest stat name in bytes. Names are never truncated: a longer one is refused. */
export const MAX_NAME_BYTES = 1024;

export interface RegionCapacity {
  /** How many stats (entries) fit. */
  maxStats: number;
  /** Bytes for stat names. */
  nameCapacity: number;
  /** 64-bit words for values (a counter takes 1, a gauge GAUGE_LANES, a histogram HISTOGRAM_WORDS). */
  dataCapacity: number;
  lockCount: number;
}

export const DEFAULT_CAPACITY: RegionCapacity = {
  maxStats: 8192,
  nameCapacity: 512 * 1024,
  dataCapacity: 1024 * 1024,
  lockCount: DEFAULT_LOCK_COUNT,
};

/**
 * The capacity `proxyctl start --stats-capacity <entries>` asks for: the default's room per
 * entry (64 name bytes, 128 value words: names average well under 64 bytes, and most stats are
 * counters, with a histogram taking HISTOGRAM_WORDS) scaled to `entries`.
 */
export function capacityFor(entries: number): RegionCapacity {
  return { maxStats: entries, nameCapacity: entries * 64, dataCapacity: entries * 128, lockCount: DEFAULT_LOCK_COUNT };
}

export interface SectionOffsets {
  locks: number;
  directory: number;
  index: number;
  indexSlots: number;
  names: number;
  data: number;
  total: number;
}

const align8 = (n: number): number => (n + 7) & ~7;

/** Where each section starts for a given capacity; the header's totalBytes must equal `total`. */
export function sectionOffsets(c: RegionCapacity): SectionOffsets {
  const locks = HEADER_BYTES;
  const directory = locks + c.lockCount * LOCK_BYTES;
  const index = directory + c.maxStats * ENTRY_BYTES;
  let indexSlots = 1;
  while (indexSlots < c.maxStats * 2) indexSlots *= 2;
  const names = align8(index + indexSlots * 4);
  const data = align8(names + c.nameCapacity);
  const total = data + c.dataCapacity * 8;
  return { locks, directory, index, indexSlots, names, data, total };
}

export function wordsFor(kind: StatKindName): number {
  switch (kind) {
    case 'counter':
      return 1;
    case 'gauge':
      return GAUGE_LANES;
    case 'histogram':
      return HISTOGRAM_WORDS;
  }
}

/** Sanity bounds for capacities read from a header, so a hostile file cannot make us allocate. */
export const CAPACITY_LIMITS = {
  maxStats: 1 << 20,
  nameCapacity: 1 << 28,
  dataCapacity: 1 << 27,
  lockCount: 256,
} as const;
