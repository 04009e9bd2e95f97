/**
 * A listener's `AccessLog`, built once per snapshot from its `accessLog` config: each entry's
 * format compiled, each path's writer taken from the thread's registry, the drop counter
 * resolved. `log` is then a format call and an array push per configured file.
 */
import type { AccessLogConfig } from '../../config/types-access-log.js';
import type { Counter } from '../../shm/handles.js';
import type { StatsStore } from '../../shm/types.js';
import { compileJson, compileText, readsHeaders } from './compile.js';
import { threadAccessLogFiles, type AccessLogFiles } from './files.js';
import { parseFormat, type FormatPart } from './parse.js';
import type { AccessLog, AccessLogEntry, LineFormatter } from './types.js';
import type { AccessLogFile } from './writer.js';

interface Sink {
  readonly format: LineFormatter;
  readonly file: AccessLogFile;
}

/** `access_log.<listener>.dropped`: lines refused because their file's buffer was full. */
export function droppedStatName(listener: string): string {
  return `access_log.${listener}.dropped`;
}

class ListenerAccessLog implements AccessLog {
  constructor(
    private readonly sinks: readonly Sink[],
    private readonly dropped: Counter,
    readonly readsRequestHeaders: boolean,
    readonly readsResponseHeaders: boolean,
  ) {}

  log(entry: AccessLogEntry): void {
    for (let i = 0; i < this.sinks.length; i++) {
      const sink = this.sinks[i]!;
      if (!sink.file.append(sink.format(entry))) this.dropped.inc();
    }
  }
}

function mustParse(text: string): FormatPart[] {
  const parsed = parseFormat(text);
  // The config pipeline refused invalid formats; one here is a bug, not a user's mistake.
  if (!parsed.ok) throw new Error(`unreachable: invalid access log format: ${parsed.problems.map((p) => p.message).join('; ')}`);
  return parsed.parts;
}

/** Compiles one configured log's format (text or JSON), and says which header maps it reads. */
export function compileFormat(c: Pick<AccessLogConfig, 'format' | 'json'>): { format: LineFormatter; request: boolean; response: boolean } {
  if (c.json !== null) {
    const fields = Object.entries(c.json).map(([k, v]) => [k, mustParse(v)] as const);
    const reads = readsHeaders(fields.flatMap(([, parts]) => parts));
    return { format: compileJson(fields), ...reads };
  }
  const parts = mustParse(c.format ?? '');
  return { format: compileText(parts), ...readsHeaders(parts) };
}

/**
 * The listener's access log, or null when it has none (the caller's only cost then is its
 * null check). Opens each path in `files` (this thread's registry by default).
 * @throws when a file cannot be opened (the config check saw its directory; it may be gone since).
 */
export function buildAccessLog(listener: string, configs: readonly AccessLogConfig[] | undefined, stats: StatsStore, files: AccessLogFiles = threadAccessLogFiles): AccessLog | null {
  if (configs === undefined || configs.length === 0) return null;
  let request = false;
  let response = false;
  const sinks = configs.map((c) => {
    const compiled = compileFormat(c);
    request ||= compiled.request;
    response ||= compiled.response;
    return { format: compiled.format, file: files.open(c.path) };
  });
  return new ListenerAccessLog(sinks, stats.counter(droppedStatName(listener)), request, response);
}
