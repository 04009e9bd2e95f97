/**
 * The progress line of `reload`, `drain --wait` and `stop` on a terminal: one line on stderr,
 * redrawn in place (`\r`, then erase to the end of the line) and erased when the command ends,
 * so what stays on the screen is the command's usual output. Anywhere else (stderr not a TTY,
 * `TERM=dumb`, `--json`) there is no progress at all: scripts and logs get only the final
 * result, the same bytes as before progress existed, and no line per second in a journal.
 * Colour settings do not turn it off: it carries no colour.
 */
import type { EpochSummary } from '../uds-rpc/index.js';

export interface Progress {
  /** Shows `text` in place of the previous line. */
  update(text: string): void;
  /** Erases the line; the next write starts at the left margin. */
  clear(): void;
}

/** What the decision reads of stderr. */
export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

/** CR, then CSI K (erase to the end of the line). */
const REDRAW = '\r\x1b[K';

/** A progress line on `stream`, or null where none is shown (see above). */
export function progressOn(stream: ProgressStream, env: NodeJS.ProcessEnv, json: boolean): Progress | null {
  if (json || stream.isTTY !== true || env.TERM === 'dumb') return null;
  let shown = false;
  return {
    update(text) {
      // One column short of the width (80 when a pty nobody sized says 0): a line that fills
      // it would wrap on some terminals, and `\r` would then redraw only its second half.
      const width = Math.max(10, (stream.columns || 80) - 1);
      stream.write(REDRAW + (text.length > width ? `${text.slice(0, width - 1)}…` : text));
      shown = true;
    },
    clear() {
      if (shown) stream.write(REDRAW);
      shown = false;
    },
  };
}

/** `3.2s`, `1m05s`. */
function seconds(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  return `${Math.floor(s / 60)}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
}

/** `epoch 3 draining: 12 conns, 28.0s left` for each epoch that is not exited. */
function epochPart(e: EpochSummary): string {
  const conns = e.connections === null ? '? conns' : `${e.connections} conn${e.connections === 1 ? '' : 's'}`;
  const left = e.drainLeftMs === undefined ? '' : `, ${seconds(e.drainLeftMs)} left`;
  return `epoch ${e.epoch} ${e.state}: ${conns}${left}`;
}

/** The progress text: what is being waited for, how long so far, and every live epoch. */
export function progressText(label: string, elapsedMs: number, epochs: readonly EpochSummary[] | null): string {
  const parts = [`${label} ${seconds(elapsedMs)}`];
  if (epochs !== null) for (const e of epochs) if (e.state !== 'exited') parts.push(epochPart(e));
  return parts.join(' · ');
}
