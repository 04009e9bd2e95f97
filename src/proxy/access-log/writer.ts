/**
 * One access-log file in one thread: lines go into an in-memory list; a write starts when
 * 64 KiB wait or 100 ms after the first line of a batch, whichever comes first. One write is
 * in flight at a time, so lines land in the order they were logged.
 *
 * Why lines from two writers never interleave (two epochs during a reload, or two worker
 * threads of one epoch, each with its own fd on the same path): the fd is O_APPEND and every
 * write(2) carries a batch of whole lines. On Linux a write to a regular file holds the
 * inode's lock for its whole length and O_APPEND picks the end of file under that lock, so
 * two writes land one after the other, never mixed. (Not so on NFS; keep logs on a local
 * file system.) A short write (ENOSPC, a signal) writes the rest at once; only then could a
 * line be split, and the disk is full anyway.
 *
 * Memory is bounded: lines waiting plus the write in flight stay under `maxBufferBytes`
 * (counted in UTF-16 units, the cost of one `length` read per line rather than a byte count);
 * `append` refuses past it and the caller counts the drop. It never blocks the proxy.
 */
import { closeSync, constants, fchmodSync, openSync, write } from 'node:fs';
import type { WriterOptions } from './types.js';

export const DEFAULT_FLUSH_INTERVAL_MS = 100;
export const DEFAULT_FLUSH_BYTES = 64 * 1024;
export const DEFAULT_MAX_BUFFER_BYTES = 4 * 1024 * 1024;
/** Access logs are created rw-r-----: the proxy's group may read them (log shippers), others not. */
export const ACCESS_LOG_MODE = 0o640;

/**
 * Told when a write failed (`lines` are lost), or when a reopen could not open the path
 * (`reopen`: nothing is lost, the old fd stays in use).
 */
export type WriteFailure = (path: string, err: Error, lines: number, during: 'write' | 'reopen') => void;

/** Opens `path` for appending, creating it 0640 (whatever the umask) if it does not exist. */
export function openAppend(path: string): number {
  const flags = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT;
  try {
    const fd = openSync(path, flags | constants.O_EXCL, ACCESS_LOG_MODE);
    fchmodSync(fd, ACCESS_LOG_MODE);
    return fd;
  } catch (err: unknown) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return openSync(path, flags, ACCESS_LOG_MODE);
}

interface Waiter {
  /** Resolved once every line appended up to this count has been written (or lost). */
  readonly upTo: number;
  readonly resolve: () => void;
}

export class AccessLogFile {
  readonly #flushIntervalMs: number;
  readonly #flushBytes: number;
  readonly #maxBufferBytes: number;
  #fd: number;
  #pending: string[] = [];
  #pendingChars = 0;
  #inFlightChars = 0;
  #writing = false;
  #timer: NodeJS.Timeout | null = null;
  /** Lines appended, and lines whose write finished (written or lost), since the file was opened. */
  #appended = 0;
  #done = 0;
  #waiters: Waiter[] = [];
  /** A reopen waits for the lines appended before it was asked; then the fd is swapped between two writes. */
  #reopenAt: number | null = null;
  #closed = false;

  constructor(
    readonly path: string,
    opts: WriterOptions = {},
    private readonly onFailure: WriteFailure = () => {},
  ) {
    this.#flushIntervalMs = opts.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS;
    this.#flushBytes = opts.flushBytes ?? DEFAULT_FLUSH_BYTES;
    this.#maxBufferBytes = opts.maxBufferBytes ?? DEFAULT_MAX_BUFFER_BYTES;
    this.#fd = openAppend(path);
  }

  /** Buffers one line (it must end with "\n"). False: refused (buffer full, or closed); the caller counts it. */
  append(line: string): boolean {
    if (this.#closed || this.#pendingChars + this.#inFlightChars + line.length > this.#maxBufferBytes) return false;
    this.#pending.push(line);
    this.#pendingChars += line.length;
    this.#appended++;
    if (this.#pendingChars >= this.#flushBytes) this.#kick();
    else if (this.#timer === null && !this.#writing) {
      this.#timer = setTimeout(this.#onTimer, this.#flushIntervalMs);
      this.#timer.unref();
    }
    return true;
  }

  /** Chars (about bytes) waiting or being written. */
  get buffered(): number {
    return this.#pendingChars + this.#inFlightChars;
  }

  /** Resolves once every line appended before the call has been written (or lost to a failed write). */
  flush(): Promise<void> {
    const upTo = this.#appended;
    if (this.#done >= upTo) return Promise.resolve();
    return new Promise((resolve) => {
      this.#waiters.push({ upTo, resolve });
      this.#kick();
    });
  }

  /**
   * logrotate's reopen: the lines appended so far go to the file that is open now (which may
   * have been renamed); after that the path is opened anew (created if gone) and later lines
   * go there. If the path cannot be opened, the old fd is kept and the failure reported.
   */
  async reopen(): Promise<void> {
    if (this.#closed) return;
    const upTo = this.#appended;
    this.#reopenAt = upTo;
    await this.flush();
    // flush() resolved from #finish, which swapped the fd already unless nothing was pending.
    if (this.#reopenAt !== null && this.#reopenAt <= upTo && !this.#writing) this.#swapFd();
  }

  /** Writes what is buffered, then closes the fd. Later appends are refused. */
  async close(): Promise<void> {
    if (this.#closed) return;
    // Lines may still come in while the last batch is written: write them too.
    while (this.#done < this.#appended) await this.flush();
    this.#closed = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    closeSync(this.#fd);
  }

  readonly #onTimer = (): void => {
    this.#timer = null;
    this.#kick();
  };

  /** Starts a write of everything pending, unless one is in flight (its end calls this again). */
  #kick(): void {
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    if (this.#writing || this.#pending.length === 0) return;
    const lines = this.#pending.length;
    const buf = Buffer.from(this.#pending.join(''), 'utf8');
    this.#pending = [];
    this.#inFlightChars = this.#pendingChars;
    this.#pendingChars = 0;
    this.#writing = true;
    this.#writeFrom(buf, 0, this.#done + lines);
  }

  #writeFrom(buf: Buffer, offset: number, doneAfter: number): void {
    write(this.#fd, buf, offset, buf.length - offset, null, (err, n) => {
      if (err === null && offset + n < buf.length) {
        this.#writeFrom(buf, offset + n, doneAfter);
        return;
      }
      if (err !== null) this.onFailure(this.path, err, doneAfter - this.#done, 'write');
      this.#finish(doneAfter);
    });
  }

  #finish(doneAfter: number): void {
    this.#writing = false;
    this.#inFlightChars = 0;
    this.#done = doneAfter;
    if (this.#reopenAt !== null && this.#done >= this.#reopenAt) this.#swapFd();
    if (this.#waiters.length > 0) {
      const ready = this.#waiters.filter((w) => w.upTo <= this.#done);
      this.#waiters = this.#waiters.filter((w) => w.upTo > this.#done);
      for (const w of ready) w.resolve();
    }
    if (this.#pending.length === 0) return;
    // Someone waits, or a full batch is ready: write now. Else the timer of a new batch.
    if (this.#waiters.length > 0 || this.#pendingChars >= this.#flushBytes) this.#kick();
    else if (this.#timer === null) {
      this.#timer = setTimeout(this.#onTimer, this.#flushIntervalMs);
      this.#timer.unref();
    }
  }

  #swapFd(): void {
    this.#reopenAt = null;
    let fd: number;
    try {
      fd = openAppend(this.path);
    } catch (err: unknown) {
      this.onFailure(this.path, err instanceof Error ? err : new Error(String(err)), 0, 'reopen');
      return;
    }
    const old = this.#fd;
    this.#fd = fd;
    closeSync(old);
  }
}
