import { HISTOGRAM_BUCKETS, HISTOGRAM_SUB_BITS } from './layout.js';

const LINEAR = 1 << HISTOGRAM_SUB_BITS; // values below this get a bucket each
const HALF = LINEAR >>> 1; // buckets per power of two above that
const MAX_VALUE = 0xffffffff;

/** Bucket of a non-negative integer value (microseconds for latencies). Branch-light: hot path. */
export function bucketIndex(value: number): number {
  if (value < LINEAR) return value < 0 ? 0 : value | 0;
  const v = value > MAX_VALUE ? MAX_VALUE : value >>> 0;
  const msb = 31 - Math.clz32(v);
  const shift = msb - HISTOGRAM_SUB_BITS + 1;
  return LINEAR + (msb - HISTOGRAM_SUB_BITS) * HALF + ((v >>> shift) - HALF);
}

/** The half-open value range [lower, upper) a bucket stands for. */
export function bucketBounds(index: number): { lower: number; upper: number } {
  if (index < LINEAR) return { lower: index, upper: index + 1 };
  const k = index - LINEAR;
  const msb = HISTOGRAM_SUB_BITS + Math.floor(k / HALF);
  const width = 2 ** (msb - HISTOGRAM_SUB_BITS + 1);
  const lower = (HALF + (k % HALF)) * width;
  return { lower, upper: lower + width };
}

/**
 * The value at quantile q (0..1) of a bucketed distribution, interpolated linearly inside the
 * bucket that holds the rank, so its error is at most half a bucket width. Returns 0 for an empty histogram.
 */
export function quantile(buckets: ArrayLike<bigint>, count: bigint, q: number): number {
  if (count <= 0n) return 0;
  const total = Number(count);
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let i = 0; i < HISTOGRAM_BUCKETS; i++) {
    const n = Number(buckets[i] ?? 0n);
    if (n === 0) continue;
    if (seen + n >= rank) {
      const { lower, upper } = bucketBounds(i);
      if (upper - lower === 1) return lower;
      // The rank's share of the bucket, taken at the middle of its slice: one value reads as the bucket's middle.
      return lower + ((rank - seen - 0.5) / n) * (upper - lower);
    }
    seen += n;
  }
  // The bucket counts lag the total while writers race with this read; report the top.
  return bucketBounds(HISTOGRAM_BUCKETS - 1).lower;
}
