/**
 * Durations in the config file are strings with a unit: "250ms", "30s", "1.5s", "2m", "1h".
 *
 * A bare number (`drainTime: 30`) is refused, not read as milliseconds: the same field is
 * written "30" by someone thinking in seconds and "30000" by someone thinking in ms, and a
 * drain timer off by a factor of 1000 is exactly the mistake a strict config should catch.
 */

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;

/**
 * The longest duration accepted. Node's timers hold a signed 32-bit millisecond count; a
 * longer delay fires after 1 ms instead (with a TimeoutOverflowWarning), which would turn a
 * generous drain time into an immediate shutdown.
 */
export const MAX_DURATION_MS = 2 ** 31 - 1;

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;

export type DurationResult = { ok: true; ms: number } | { ok: false; message: string };

/** Parses a duration string into whole milliseconds, or says why it cannot. */
export function parseDuration(text: string): DurationResult {
  const m = DURATION.exec(text.trim());
  if (m === null) {
    return { ok: false, message: `"${text}" is not a duration: use a number with a unit, such as 250ms, 30s, 1.5s, 2m or 1h` };
  }
  const ms = Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  // 1.5s is 1500 ms exactly, but 0.1s is 100.00000000000001 in floating point: round away the
  // representation error, then refuse anything that really has a fraction of a millisecond.
  const rounded = Math.round(ms);
  if (Math.abs(ms - rounded) > 1e-6) return { ok: false, message: `"${text}" is not a whole number of milliseconds` };
  if (rounded > MAX_DURATION_MS) return { ok: false, message: `"${text}" is longer than the maximum of ${MAX_DURATION_MS}ms (about 24.8 days)` };
  return { ok: true, ms: rounded };
}

/** The shortest exact spelling of a millisecond count ("45s", "1500ms"), for messages. */
export function formatDuration(ms: number): string {
  if (ms !== 0 && ms % UNIT_MS.h === 0) return `${ms / UNIT_MS.h}h`;
  if (ms !== 0 && ms % UNIT_MS.m === 0) return `${ms / UNIT_MS.m}m`;
  if (ms % UNIT_MS.s === 0) return `${ms / UNIT_MS.s}s`;
  return `${ms}ms`;
}
