/**
 * `%CONNECTION_ID%`: a number per accepted downstream connection, unique within an epoch
 * (every worker thread of the epoch draws from one shared counter; a new epoch starts at 1).
 * A thread that was given no shared counter (tests, the warm-up plane) counts on its own.
 */

let shared: BigInt64Array | null = null;
let local = 0;

/** The counter every worker of the epoch shares (one BigInt64 in a SharedArrayBuffer). */
export function createConnectionIdBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer(BigInt64Array.BYTES_PER_ELEMENT);
}

/** Makes this thread draw connection ids from `buffer` (see createConnectionIdBuffer). */
export function useSharedConnectionIds(buffer: SharedArrayBuffer): void {
  shared = new BigInt64Array(buffer, 0, 1);
}

/** The next connection id, from 1. One atomic add; call it once per accepted connection. */
export function nextConnectionId(): number {
  if (shared === null) return ++local;
  return Number(Atomics.add(shared, 0, 1n)) + 1;
}
