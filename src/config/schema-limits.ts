import * as z from 'zod';
import type { LimitsConfig } from './types.js';

/**
 * Connection caps: `limits.maxConnections` for the whole epoch (every listener, every worker)
 * and `listeners[].maxConnections` for one listener. Past a cap the workers stop accepting
 * and the connections wait in the kernel's accept queue (see src/proxy/limits/).
 */

/** Past the kernel's own fd ceilings (fs.nr_open is 2^20 by default); a typo, not a plan. */
export const MAX_CONNECTIONS_MAX = 4_000_000;

export const maxConnections = z
  .int({ error: 'must be a whole number' })
  .min(1, { error: `must be 1..${MAX_CONNECTIONS_MAX}` })
  .max(MAX_CONNECTIONS_MAX, { error: `must be 1..${MAX_CONNECTIONS_MAX}` });

export const limitsSchema = z
  .strictObject({
    maxConnections: maxConnections.optional().meta({
      default: 'from RLIMIT_NOFILE, (nofile - reserve) / 2',
      description: 'The most downstream connections an epoch holds at once over all its listeners and workers; past it the workers stop accepting until one closes (two fds per proxied connection).',
    }),
  })
  .describe('Caps on what one epoch holds.');

type FileLimits = z.output<typeof limitsSchema>;

/** Present only when the file has `limits`, so configs without it keep their shape and hash. */
export function withLimits<C extends object>(config: C, limits: FileLimits | undefined): C & { limits?: LimitsConfig } {
  if (limits === undefined) return config;
  return { ...config, limits: limits.maxConnections === undefined ? {} : { maxConnections: limits.maxConnections } };
}

/** A listener's `maxConnections`, present only when the file sets it. */
export function withMaxConnections<L extends object>(listener: L, max: number | undefined): L {
  return max === undefined ? listener : { ...listener, maxConnections: max };
}
