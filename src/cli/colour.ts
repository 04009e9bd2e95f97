/**
 * Whether proxyctl colours what it writes to a stream, and the chalk-backed Paint when it does.
 * The rule, first match wins:
 *   1. `--no-color` → off.
 *   2. `NO_COLOR` set to anything but the empty string (no-color.org) → off.
 *   3. `FORCE_COLOR` as chalk reads it: `true` or empty → level 1, `false` or `0` → off,
 *      `1`..`3` → that level (a pipe gets colour too).
 *   4. Not a TTY, or `TERM=dumb` → off.
 *   5. Otherwise the terminal's own depth (16, 256 or 16M colours).
 * chalk's global instance would skip rule 1 and 2 (it reads neither), so proxyctl never uses it:
 * it builds `new Chalk({level})` from this decision. chalk is imported only when the answer is
 * on: importing it costs about 20 ms, which `proxyctl status` in a script should not pay.
 */
import type { Paint, Tone } from './paint.js';
import { PLAIN } from './paint.js';

/** chalk's levels: 0 none, 1 basic 16 colours, 2 256 colours, 3 truecolor. */
export type ColourLevel = 0 | 1 | 2 | 3;

/** What the decision reads of a stream: process.stdout and process.stderr fit. */
export interface ColourStream {
  isTTY?: boolean;
  getColorDepth?: (env?: NodeJS.ProcessEnv) => number;
}

function forcedLevel(value: string): ColourLevel | null {
  if (value === 'true' || value === '') return 1;
  if (value === 'false') return 0;
  const n = Number.parseInt(value, 10);
  if (Number.isNaN(n)) return null;
  return Math.max(0, Math.min(n, 3)) as ColourLevel;
}

/** The colour level for `stream` under the rule above. Pure but for the stream's own depth. */
export function colourLevel(stream: ColourStream, env: NodeJS.ProcessEnv, noColorFlag: boolean): ColourLevel {
  if (noColorFlag) return 0;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return 0;
  if (env.FORCE_COLOR !== undefined) {
    const forced = forcedLevel(env.FORCE_COLOR);
    if (forced !== null) return forced;
  }
  if (stream.isTTY !== true || env.TERM === 'dumb') return 0;
  const depth = stream.getColorDepth?.(env) ?? 4;
  return depth >= 24 ? 3 : depth >= 8 ? 2 : 1;
}

/** The Paint for `level`: PLAIN at 0 (chalk not loaded), else a chalk instance at that level. */
export async function paintFor(level: ColourLevel): Promise<Paint> {
  if (level === 0) return PLAIN;
  const { Chalk } = await import('chalk');
  const c = new Chalk({ level });
  const tones: Record<Tone, (text: string) => string> = { good: c.green, busy: c.yellow, bad: c.red, none: (t) => t };
  return {
    header: c.bold,
    tone: (tone, text) => tones[tone](text),
    step: c.cyan,
    total: c.bold,
    errorLabel: (code) => c.red(`proxyctl: ${c.bold(code)}:`),
  };
}

/** The Paint for what goes to `stream`. */
export function paintForStream(stream: ColourStream, env: NodeJS.ProcessEnv, noColorFlag: boolean): Promise<Paint> {
  return paintFor(colourLevel(stream, env, noColorFlag));
}
