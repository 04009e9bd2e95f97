import * as z from 'zod';
import { address, duration } from './schema-scalars.js';
import type { StatsConfig } from './types-stats.js';

/**
 * `stats`: the flush interval and the sinks (statsd today). A sink is an object with one key
 * naming its kind, so another kind is another key, not a `type:` switch.
 */

export const STATS_DEFAULTS = { flushIntervalMs: 5_000, prefix: 'proxyctl', tags: 'none' } as const;
const FLUSH_MIN_MS = 10;
const FLUSH_MAX_MS = 3_600_000;

const statsd = z.strictObject({
  address,
  prefix: z.string({ error: 'must be a string' }).regex(/^([A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*)?$/, { error: 'must be dotted parts of letters, digits, "_" or "-" (or "" for none)' }).optional(),
  tags: z.enum(['none', 'dogstatsd'], { error: 'must be "none" or "dogstatsd"' }).optional(),
});

const sink = z.strictObject({ statsd }, { error: 'must be { statsd: { address, prefix, tags } }' });

export const statsSchema = z.strictObject({
  flushInterval: duration.refine((ms) => ms >= FLUSH_MIN_MS && ms <= FLUSH_MAX_MS, { error: `must be ${FLUSH_MIN_MS}ms..1h` }).optional(),
  sinks: z.array(sink, { error: 'must be a list of sinks' }).optional(),
});

type FileStats = z.output<typeof statsSchema>;

export function normalizeStats(s: FileStats | undefined): StatsConfig {
  return {
    flushIntervalMs: s?.flushInterval ?? STATS_DEFAULTS.flushIntervalMs,
    sinks: (s?.sinks ?? []).map(({ statsd: d }) => ({
      kind: 'statsd' as const,
      address: { host: d.address.host, port: d.address.port },
      prefix: d.prefix ?? STATS_DEFAULTS.prefix,
      tags: d.tags ?? STATS_DEFAULTS.tags,
    })),
  };
}
