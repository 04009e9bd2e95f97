import * as z from 'zod';
import { parseCidr } from './cidr.js';
import { alpnName } from './schema-tls.js';
import type { FilterChainMatchConfig } from './types.js';

/**
 * `listeners[].filterChains[].match`, as the file spells it (types.ts, FilterChainMatchConfig,
 * for the meaning). The chain object itself is in schema.ts, beside the listener whose keys it
 * shares; what spans chains (names, overlaps, the inspector a match needs) is checked in
 * cross-checks-filter-chains.ts.
 */

const LABEL = '[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?';
const SERVER_NAME = new RegExp(`^(\\*\\.)?(?=.{1,253}$)${LABEL}(\\.${LABEL})*$`);

const serverName = z
  .string({ error: 'must be a host name or "*.suffix"' })
  .transform((s) => s.toLowerCase())
  .refine((s) => SERVER_NAME.test(s), { error: 'must be a DNS host name such as api.example.com, or "*.example.com" for any name under it' });

const cidr = z.string({ error: 'must be a CIDR range such as 10.0.0.0/8' }).transform((text, ctx) => {
  const r = parseCidr(text);
  if (r.ok) return r.cidr.text;
  ctx.issues.push({ code: 'custom', message: r.message, input: text });
  return z.NEVER;
});

const nonEmpty = { error: 'must list at least one (leave the key out to match any)' };

export const filterChainMatchSchema = z.strictObject({
  destinationPort: z.int({ error: 'must be a port number' }).min(1, { error: 'must be 1..65535' }).max(65535, { error: 'must be 1..65535' }).optional(),
  serverNames: z.array(serverName).min(1, nonEmpty).optional(),
  transport: z.enum(['tls', 'raw'], { error: 'must be "tls" or "raw"' }).optional(),
  alpn: z.array(alpnName).min(1, nonEmpty).optional(),
  sourceCidrs: z.array(cidr).min(1, nonEmpty).optional(),
});

/** Absent criteria as `null` / `[]`, so every match has the same keys. */
export function normalizeFilterChainMatch(m: z.output<typeof filterChainMatchSchema> | undefined): FilterChainMatchConfig {
  return {
    destinationPort: m?.destinationPort ?? null,
    serverNames: [...new Set(m?.serverNames ?? [])],
    transport: m?.transport ?? null,
    alpn: [...new Set(m?.alpn ?? [])],
    sourceCidrs: [...new Set(m?.sourceCidrs ?? [])],
  };
}
