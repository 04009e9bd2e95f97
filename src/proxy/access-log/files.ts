/**
 * The access-log files one thread has open: one `AccessLogFile` (one fd) per path, shared by
 * every listener and snapshot of the thread that logs there.
 *
 * Each worker thread has its own registry (module state is per thread) and so its own fd per
 * path, rather than posting lines to one writer: a line then costs no copy between threads
 * and no message, a reopen needs no coordination of fd lifetimes across threads, and
 * O_APPEND with whole-line writes is needed anyway for two epochs writing one file during a
 * reload; it serves threads just as well (writer.ts says why writes never mix).
 *
 * A file stays open for the thread's life once a snapshot used it (a new config is a new
 * epoch, so paths do not come and go within one); the worker closes them all, flushed, at its
 * shutdown, and reopens them all on SIGUSR1.
 */
import type { WriterOptions } from './types.js';
import { AccessLogFile } from './writer.js';

/** Where the registry reports lost lines; the worker points it at its logger. */
export type AccessLogWarn = (msg: string, fields: Record<string, unknown>) => void;

/** A write failure is reported at most this often per file (lines lost meanwhile are summed). */
const WARN_EVERY_MS = 10_000;

export class AccessLogFiles {
  readonly #files = new Map<string, AccessLogFile>();
  #warn: AccessLogWarn = () => {};
  readonly #lost = new Map<string, { lines: number; lastWarnAt: number }>();

  constructor(private readonly options: WriterOptions = {}) {}

  setWarn(warn: AccessLogWarn): void {
    this.#warn = warn;
  }

  /** The thread's writer for `path` (absolute), opened on first use. Throws if it cannot be opened. */
  open(path: string): AccessLogFile {
    let f = this.#files.get(path);
    if (f === undefined) {
      f = new AccessLogFile(path, this.options, this.#onFailure);
      this.#files.set(path, f);
    }
    return f;
  }

  get paths(): string[] {
    return [...this.#files.keys()];
  }

  /** Resolves once every line logged so far is written. */
  async flushAll(): Promise<void> {
    await Promise.all([...this.#files.values()].map((f) => f.flush()));
  }

  /** SIGUSR1: each file writes what it holds, closes, and opens its path again. */
  async reopenAll(): Promise<number> {
    await Promise.all([...this.#files.values()].map((f) => f.reopen()));
    return this.#files.size;
  }

  /** Shutdown: writes what is buffered and closes every file; the registry is empty after. */
  async closeAll(): Promise<void> {
    const files = [...this.#files.values()];
    this.#files.clear();
    await Promise.all(files.map((f) => f.close()));
  }

  readonly #onFailure = (path: string, err: Error, lines: number, during: 'write' | 'reopen'): void => {
    if (during === 'reopen') {
      this.#warn('access log could not be reopened; writing on to the file open before', { path, error: err });
      return;
    }
    const now = Date.now();
    const entry = this.#lost.get(path) ?? { lines: 0, lastWarnAt: 0 };
    entry.lines += lines;
    this.#lost.set(path, entry);
    if (now - entry.lastWarnAt < WARN_EVERY_MS) return;
    entry.lastWarnAt = now;
    this.#warn('access log write failed; lines lost', { path, error: err, lostLines: entry.lines });
  };
}

/** This thread's registry. */
export const threadAccessLogFiles = new AccessLogFiles();
