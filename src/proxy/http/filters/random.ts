/** Where the fault filter's dice come from: `Math.random`, or a seeded source in tests. */
export type RandomSource = () => number;

/**
 * A small deterministic generator (xorshift32) for tests: the same seed gives the same
 * sequence in [0, 1). Not for anything that must be unpredictable.
 */
export function seededRandom(seed: number): RandomSource {
  let s = seed >>> 0 || 0x9e3779b9;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x1_0000_0000;
  };
}

/** True with probability `percentage`/100 (0 never draws, 100 always hits). */
export function roll(random: RandomSource, percentage: number): boolean {
  if (percentage <= 0) return false;
  if (percentage >= 100) return true;
  return random() * 100 < percentage;
}
