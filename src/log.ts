/**
 * One log line per event, for people first and grep second:
 *
 *   2026-11-22T10:00:00.123Z info supervisor: epoch 3 ready pid=4242 ms=212
 *
 * Epochs write to their stderr; the supervisor reads those lines and writes them to its own
 * destination unchanged, so one file (or the journal) holds the whole story in order, and
 * reopening the log (SIGUSR1) needs no help from the epochs.
 */
import { createWriteStream, type WriteStream } from 'node:fs';

export type LogLevel = 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

export interface Logger {
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

/** Where lines go: anything with a `write(string)`. */
export interface LineSink {
  write(line: string): unknown;
}

function formatValue(v: unknown): string {
  const s = typeof v === 'string' ? v : v instanceof Error ? `${v.name}: ${v.message}` : JSON.stringify(v) ?? String(v);
  return /^[^\s"=]+$/.test(s) ? s : JSON.stringify(s);
}

export function formatLine(level: LogLevel, component: string, msg: string, fields?: LogFields, now = new Date()): string {
  let line = `${now.toISOString()} ${level} ${component}: ${msg}`;
  if (fields !== undefined) {
    for (const key of Object.keys(fields)) {
      const v = fields[key];
      if (v !== undefined) line += ` ${key}=${formatValue(v)}`;
    }
  }
  return line + '\n';
}

/** A logger that writes `component`'s lines to `sink` (a stream, or a LogFile). */
export function createLogger(component: string, sink: LineSink): Logger {
  return {
    info: (msg, fields) => void sink.write(formatLine('info', component, msg, fields)),
    warn: (msg, fields) => void sink.write(formatLine('warn', component, msg, fields)),
    error: (msg, fields) => void sink.write(formatLine('error', component, msg, fields)),
  };
}

/** Discards everything (tests, and callers that were given no logger). */
export const silentLogger: Logger = { info() {}, warn() {}, error() {} };

/**
 * An append-only log file that can be reopened after logrotate moved it (SIGUSR1). Lines are
 * written in order; a reopen switches streams between two lines. The file is created 0600.
 */
export class LogFile implements LineSink {
  #stream: WriteStream;

  constructor(readonly path: string) {
    this.#stream = LogFile.#open(path);
  }

  static #open(path: string): WriteStream {
    const stream = createWriteStream(path, { flags: 'a', mode: 0o600 });
    // A log that cannot be written must not take the proxy down; the line is lost, the proxy serves on.
    stream.on('error', () => {});
    return stream;
  }

  write(line: string): boolean {
    return this.#stream.write(line);
  }

  reopen(): void {
    const old = this.#stream;
    this.#stream = LogFile.#open(this.path);
    old.end();
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#stream.end(resolve));
  }
}
