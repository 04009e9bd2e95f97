import * as z from 'zod';
import { parseDuration } from './duration.js';
import type { ListenerFilterConfig } from './types-listener-filters.js';

/** `listeners[].listenerFilters`, as the file spells it (types-listener-filters.ts for the meaning). */

export const DEFAULT_PROXY_PROTOCOL_TIMEOUT_MS = 3_000;

// The same rule as schema.ts's durations; not imported from there, since schema.ts imports this file.
const duration = z.string({ error: 'must be a duration string with a unit, such as 3s or 500ms' }).transform((text, ctx) => {
  const r = parseDuration(text);
  if (r.ok) return r.ms;
  ctx.issues.push({ code: 'custom', message: r.message, input: text });
  return z.NEVER;
});

const bool = z.boolean({ error: 'must be true or false' });

const proxyProtocol = z
  .strictObject({
    allowV1: bool.default(true),
    allowV2: bool.default(true),
    required: bool.default(true),
    timeout: duration.refine((ms) => ms > 0, { error: 'must be more than 0' }).optional(),
  })
  .refine((p) => p.allowV1 || p.allowV2, { error: 'allowV1 and allowV2 are both false: no header could be accepted' });

const entry = z.strictObject({ proxyProtocol });

export const listenerFiltersSchema = z.array(entry, { error: 'must be a list of listener filters, such as [{ proxyProtocol: {} }]' });

type FileEntry = z.output<typeof entry>;

/** Adds `listenerFilters` to a normalized listener when its file lists any, defaults filled in. */
export function withListenerFilters<L extends object>(listener: L, entries: readonly FileEntry[] | undefined): L {
  if (entries === undefined || entries.length === 0) return listener;
  const listenerFilters: ListenerFilterConfig[] = entries.map((e) => ({
    proxyProtocol: {
      allowV1: e.proxyProtocol.allowV1,
      allowV2: e.proxyProtocol.allowV2,
      required: e.proxyProtocol.required,
      timeoutMs: e.proxyProtocol.timeout ?? DEFAULT_PROXY_PROTOCOL_TIMEOUT_MS,
    },
  }));
  return { ...listener, listenerFilters };
}
