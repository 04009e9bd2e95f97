import { readFileSync } from 'node:fs';
import { randomInt } from 'node:crypto';
import { ProxyctlError, errnoCode } from '../errors.js';
import { LOCK, LOCK_BYTES } from './layout.js';

/** What `SharedLocks.acquire` hands back. */
export interface LockGrant {
  /**
   * True when the previous holder died while holding the lock and we took it over. The
   * caller must then repair whatever the lock protects before relying on it.
   */
  recovered: boolean;
  /** The pid of the dead holder when `recovered`. */
  previousOwnerPid?: number;
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
/** Blocks this thread for `ms` without spinning (the region itself is not a SharedArrayBuffer). */
function sleepMs(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
}

/**
 * Whether `pid` names a process that can still release a lock. A zombie (dead, not yet reaped
 * by its parent) answers kill(pid, 0) like a live process, so on Linux /proc decides first.
 */
export function processIsAlive(pid: number): boolean {
  if (pid <= 0) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch (err: unknown) {
    if (errnoCode(err) === 'ENOENT') return false;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (err: unknown) {
    return errnoCode(err) === 'EPERM';
  }
}

/**
 * A table of cross-process locks in shared memory. Each lock is one 64-bit owner word taken
 * with compare-and-swap: 0 is free, otherwise the holder's pid in the high half and a random
 * per-thread token in the low half (threads of one process share a pid). A holder whose pid
 * is gone is taken over at once by the next contender, which is told so through
 * `LockGrant.recovered`. Limits, by design: a thread that is terminated while it holds a lock
 * in a process that lives on is not detected (the acquire times out instead), and a pid reused
 * within the wait looks alive until it exits.
 */
export class SharedLocks {
  readonly #words: BigInt64Array;
  readonly #count: number;
  readonly #owner: bigint;

  constructor(bytes: Buffer, offset: number, count: number) {
    this.#words = new BigInt64Array(bytes.buffer, bytes.byteOffset + offset, (count * LOCK_BYTES) / 8);
    this.#count = count;
    this.#owner = (BigInt(process.pid) << 32n) | BigInt(randomInt(1, 0x7fffffff));
  }

  #slot(id: number, field: number): number {
    if (!Number.isInteger(id) || id < 0 || id >= this.#count) throw new RangeError(`lock id ${id} out of range`);
    return (id * LOCK_BYTES + field) / 8;
  }

  /**
   * Takes lock `id`, waiting (1 ms sleeps, the thread blocks) while a live process holds it.
   * Throws PROXYCTL_ERR_SHM_LOCK_TIMEOUT after `timeoutMs`.
   */
  acquire(id: number, timeoutMs = 5000): LockGrant {
    const slot = this.#slot(id, LOCK.owner);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const prev = Atomics.compareExchange(this.#words, slot, 0n, this.#owner);
      if (prev === 0n) return this.#granted(id, { recovered: false });
      if (prev === this.#owner) throw new Error(`lock ${id} is already held by this thread`);
      const pid = Number(prev >> 32n);
      if (!processIsAlive(pid) && Atomics.compareExchange(this.#words, slot, prev, this.#owner) === prev) {
        Atomics.add(this.#words, this.#slot(id, LOCK.recoveries), 1n);
        return this.#granted(id, { recovered: true, previousOwnerPid: pid });
      }
      if (Date.now() >= deadline) {
        throw new ProxyctlError('PROXYCTL_ERR_SHM_LOCK_TIMEOUT', `stats region lock ${id} still held by live pid ${pid} after ${timeoutMs} ms`, { lock: id, ownerPid: pid, timeoutMs });
      }
      sleepMs(1);
    }
  }

  #granted(id: number, grant: LockGrant): LockGrant {
    Atomics.store(this.#words, this.#slot(id, LOCK.acquiredAtMs), BigInt(Date.now()));
    return grant;
  }

  release(id: number): void {
    const prev = Atomics.compareExchange(this.#words, this.#slot(id, LOCK.owner), this.#owner, 0n);
    if (prev !== this.#owner) throw new Error(`lock ${id} released by a thread that does not hold it`);
  }

  /** Runs `fn` holding lock `id`; `fn` learns whether it must repair after a recovery. */
  with<T>(id: number, fn: (grant: LockGrant) => T, timeoutMs?: number): T {
    const grant = this.acquire(id, timeoutMs);
    try {
      return fn(grant);
    } finally {
      this.release(id);
    }
  }

  /** The pid holding lock `id`, or 0 when it is free. For status output and tests. */
  ownerPid(id: number): number {
    return Number(Atomics.load(this.#words, this.#slot(id, LOCK.owner)) >> 32n);
  }

  recoveries(id: number): number {
    return Number(Atomics.load(this.#words, this.#slot(id, LOCK.recoveries)));
  }
}
