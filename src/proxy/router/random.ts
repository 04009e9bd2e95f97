/**
 * A seeded random source for weighted cluster picks in tests (mulberry32: 32 bits of state,
 * uniform enough for a distribution test, and the same sequence for the same seed everywhere).
 * Production passes `Math.random`.
 */
import type { RandomSource } from './types.js';

export function seededRandom(seed: number): RandomSource {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
