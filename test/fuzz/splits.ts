/**
 * Where to cut an input to check that a parser's verdict does not depend on how the bytes
 * arrived: every offset of a short input; of a long one, the first and last 64 and 64 spread
 * between (a stream parser's bugs sit at boundaries, and every cut of 60 KiB is too slow).
 */
export function splitPoints(length: number): number[] {
  if (length <= 256) return Array.from({ length }, (_, i) => i);
  const points = new Set<number>();
  for (let i = 0; i < 64; i++) {
    points.add(i);
    points.add(length - 1 - i);
    points.add(Math.floor(((i + 1) * length) / 66));
  }
  return [...points].sort((a, b) => a - b);
}
