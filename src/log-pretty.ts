/**
 * `--log-format pretty`: the JSON lines of log.ts rendered for people, one line per event:
 *
 *   2026-11-22T10:00:00.123Z info supervisor: epoch 3 ready epochPid=4242 ms=212
 *   2026-11-22T10:00:00.456Z debug epoch 3 worker 0: draining strategy=gradual
 *
 * The supervisor renders its own lines and its epochs' (which always arrive as JSON), so the
 * format is chosen in one place. Written here rather than taken from pino-pretty: a dozen
 * lines against a dozen dependencies, and this keeps the house format, not pino-pretty's.
 */
import type { LineSink } from './log.js';

/** Keys every line has; rendered in the head of the line, not as `key=value`. */
const HEAD_KEYS = new Set(['level', 'time', 'pid', 'epoch', 'component', 'msg']);

function formatValue(v: unknown): string {
  let s: string;
  if (typeof v === 'string') s = v;
  else if (typeof v === 'object' && v !== null && typeof (v as { message?: unknown }).message === 'string' && typeof (v as { name?: unknown }).name === 'string') {
    const e = v as { name: string; message: string };
    s = `${e.name}: ${e.message}`; // a serialized Error (log.ts)
  } else s = JSON.stringify(v) ?? String(v);
  return /^[^\s"=]+$/.test(s) ? s : JSON.stringify(s);
}

function who(line: Record<string, unknown>): string {
  const component = String(line.component);
  if (component === 'epoch') return `epoch ${String(line.epoch)}`;
  if (component.startsWith('worker ')) return `epoch ${String(line.epoch)} ${component}`;
  return component;
}

/** One JSON log line (without its newline) rendered, with a newline; any other text is passed on as it is. */
function renderLine(text: string): string {
  let line: unknown;
  try {
    line = text.startsWith('{') ? JSON.parse(text) : null;
  } catch {
    line = null;
  }
  if (typeof line !== 'object' || line === null) return `${text}\n`;
  const l = line as Record<string, unknown>;
  let out = `${String(l.time)} ${String(l.level)} ${who(l)}: ${String(l.msg)}`;
  for (const key of Object.keys(l)) {
    if (!HEAD_KEYS.has(key)) out += ` ${key}=${formatValue(l[key])}`;
  }
  return `${out}\n`;
}

/** A sink that renders each JSON line it is given before it writes it to `out`. */
export class PrettySink implements LineSink {
  constructor(private readonly out: LineSink) {}

  write(chunk: string): void {
    let start = 0;
    for (let nl = chunk.indexOf('\n'); nl !== -1; nl = chunk.indexOf('\n', start)) {
      if (nl > start) this.out.write(renderLine(chunk.slice(start, nl)));
      start = nl + 1;
    }
    if (start < chunk.length) this.out.write(renderLine(chunk.slice(start)));
  }
}
