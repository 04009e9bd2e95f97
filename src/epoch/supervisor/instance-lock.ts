/**
 * One supervisor per base id. The claim is a lock word in a small mapped file that is never
 * deleted: compare-and-swap makes two simultaneous `start`s race fairly (exactly one wins),
 * and a holder that died (SIGKILL, OOM, power loss of the process) is taken over at once by
 * the next `start`, so stale files never block it. A pid file or a socket probe cannot give
 * both properties: checking "is the owner alive" and replacing the file are two steps, and two
 * starters can both pass the check.
 */
import { closeSync, fstatSync, ftruncateSync, openSync, constants as fsc } from 'node:fs';
import { ProxyctlError, errnoCode, isProxyctlError } from '../../errors.js';
import { LOCK_BYTES } from '../../shm/layout.js';
import { SharedLocks } from '../../shm/locks.js';
import { mapFile } from '../../shm/mapping.js';

export class InstanceLock {
  private constructor(
    private readonly locks: SharedLocks,
    /** Keeps the mapping alive as long as the lock is held. */
    private readonly bytes: Buffer,
    /** The pid of a dead supervisor whose claim we took over, if any (for the log). */
    readonly tookOverFrom: number | null,
  ) {}

  /** Claims `path` for this process. Throws PROXYCTL_ERR_ALREADY_RUNNING with `details.pid`. */
  static acquire(path: string): InstanceLock {
    ensureLockFile(path);
    const { bytes } = mapFile(path, false, LOCK_BYTES);
    const locks = new SharedLocks(bytes, 0, 1);
    try {
      const grant = locks.acquire(0, 0);
      return new InstanceLock(locks, bytes, grant.recovered ? (grant.previousOwnerPid ?? null) : null);
    } catch (err: unknown) {
      if (!isProxyctlError(err, 'PROXYCTL_ERR_SHM_LOCK_TIMEOUT')) throw err;
      const pid = locks.ownerPid(0);
      throw new ProxyctlError('PROXYCTL_ERR_ALREADY_RUNNING', `a supervisor (pid ${pid}) already runs under this base id; it was left alone`, { pid, lockFile: path });
    }
  }

  /** The pid holding the claim at `path`, or 0 (nobody, or no file). For status and tests. */
  static holder(path: string): number {
    try {
      const { bytes } = mapFile(path, true, LOCK_BYTES);
      return Number(new BigInt64Array(bytes.buffer, bytes.byteOffset, 1)[0]! >> 32n);
    } catch {
      return 0;
    }
  }

  release(): void {
    this.locks.release(0);
    void this.bytes;
  }
}

function ensureLockFile(path: string): void {
  let fd: number;
  try {
    fd = openSync(path, fsc.O_RDWR | fsc.O_CREAT, 0o600);
  } catch (err: unknown) {
    throw new ProxyctlError('PROXYCTL_ERR_RUNTIME_DIR', `cannot open ${path}: ${errnoCode(err) ?? String(err)}`, { path, errno: errnoCode(err) }, { cause: err });
  }
  try {
    // Only ever grows from 0: a concurrent starter may already hold the word.
    if (fstatSync(fd).size < LOCK_BYTES) ftruncateSync(fd, LOCK_BYTES);
  } finally {
    closeSync(fd);
  }
}
