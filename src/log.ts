/**
 * Structured logs: one JSON object per line, written by pino.
 *
 *   {"level":"info","time":"2026-11-22T10:00:00.123Z","pid":4100,"epoch":null,"component":"supervisor","epochPid":4242,"ms":212,"msg":"epoch 3 ready"}
 *
 * Every line carries `level`, `time` (ISO 8601, UTC), `pid` (the process that wrote it),
 * `epoch` (its number; null for the supervisor, so every line has the same keys), `component`
 * (`supervisor`, `epoch`, or `worker <n>` for a worker thread of that epoch) and `msg`; the
 * caller's fields follow as top-level keys. Epochs always write JSON to their stderr; the
 * supervisor reads those lines and writes them to its own destination unchanged (or rendered,
 * log-pretty.ts), so one file or the journal holds the whole story in order, and reopening the
 * log (SIGUSR1) needs no help from the epochs.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { pino, stdTimeFunctions, type Logger as Pino } from 'pino';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

export function isLogLevel(s: string): s is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(s);
}

export type LogFields = Record<string, unknown>;

/**
 * What the code logs with. The line's own keys (`level`, `time`, `pid`, `epoch`, `component`,
 * `msg`) are not for fields: a supervisor line about an epoch names it `epochPid`. An Error
 * among the fields is written as `{name, message, code}`, plus `stack` at level debug.
 */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

/** A logger whose level can be changed while it runs (the admin endpoint's `/logging`). */
export interface LevelledLogger extends Logger {
  level: LogLevel;
}

/** Where lines go: anything with a `write(string)`; each call gets whole lines. */
export interface LineSink {
  write(line: string): unknown;
}

/** Who writes a line. */
export interface LogOrigin {
  /** `supervisor`, `epoch`, or `worker <n>`. */
  readonly component: string;
  /** The epoch's number; null for the supervisor. */
  readonly epoch: number | null;
}

/** pino's number for level debug: at or below it, errors carry their stack. */
const DEBUG_LEVEL_VALUE = 20;
const NO_FIELDS: LogFields = {};

function errorFields(err: Error, withStack: boolean): LogFields {
  const out: LogFields = { name: err.name, message: err.message };
  const code = (err as { code?: unknown }).code;
  if (code !== undefined) out.code = code;
  if (withStack && err.stack !== undefined) out.stack = err.stack;
  return out;
}

/** `fields` with each Error replaced by its plain form; `fields` itself when there is none (the caller's object is never changed). */
function withErrorsSerialized(fields: LogFields, withStack: boolean): LogFields {
  let out: LogFields | null = null;
  for (const key of Object.keys(fields)) {
    const v = fields[key];
    if (!(v instanceof Error)) continue;
    out ??= { ...fields };
    out[key] = errorFields(v, withStack);
  }
  return out ?? fields;
}

class PinoLogger implements LevelledLogger {
  constructor(private readonly pino: Pino) {}

  get level(): LogLevel {
    return this.pino.level as LogLevel;
  }

  set level(level: LogLevel) {
    this.pino.level = level;
  }

  // Fields always go first: pino formats a lone message printf-style, `%d` and all.
  debug(msg: string, fields?: LogFields): void {
    this.pino.debug(fields ?? NO_FIELDS, msg);
  }

  info(msg: string, fields?: LogFields): void {
    this.pino.info(fields ?? NO_FIELDS, msg);
  }

  warn(msg: string, fields?: LogFields): void {
    this.pino.warn(fields ?? NO_FIELDS, msg);
  }

  error(msg: string, fields?: LogFields): void {
    this.pino.error(fields ?? NO_FIELDS, msg);
  }
}

/** A logger that writes `origin`'s JSON lines to `sink` (a stream, a LogFile, or a PrettySink). */
export function createLogger(origin: LogOrigin, sink: LineSink, level: LogLevel = 'info'): LevelledLogger {
  const logger: Pino = pino(
    {
      level,
      base: { pid: process.pid, epoch: origin.epoch, component: origin.component },
      timestamp: stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        log: (fields) => withErrorsSerialized(fields, logger.levelVal <= DEBUG_LEVEL_VALUE),
      },
    },
    sink,
  );
  return new PinoLogger(logger);
}

/**
 * Passes on one line (without its newline) that an epoch wrote to its stdout or stderr: a JSON
 * line as it is, and anything else (a Node warning, a crash trace, a usage error before the
 * logger existed) as a JSON line of `origin` with `raw: true`, so the log stays one JSON
 * object a line. Level warn: such output is Node complaining more often than not.
 */
export function forwardLine(sink: LineSink, text: string, origin: LogOrigin & { readonly pid: number }): void {
  if (text.startsWith('{') && text.endsWith('}')) sink.write(`${text}\n`);
  else if (text !== '') sink.write(`${JSON.stringify({ level: 'warn', time: new Date().toISOString(), pid: origin.pid, epoch: origin.epoch, component: origin.component, raw: true, msg: text })}\n`);
}

/** Discards everything (tests, and callers that were given no logger). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

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
