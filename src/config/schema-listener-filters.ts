import * as z from 'zod';
import { bool, duration } from './schema-scalars.js';
import { formatDuration } from './duration.js';
import type { ListenerFilterConfig } from './types-listener-filters.js';

/** `listeners[].listenerFilters`, as the file spells it (types-listener-filters.ts for the meaning). */

export const DEFAULT_PROXY_PROTOCOL_TIMEOUT_MS = 3_000;
export const DEFAULT_TLS_INSPECTOR_TIMEOUT_MS = 3_000;

const proxyProtocol = z
  .strictObject({
    allowV1: bool.default(true),
    allowV2: bool.default(true),
    required: bool.default(true),
    timeout: duration.refine((ms) => ms > 0, { error: 'must be more than 0' }).optional().meta({ default: formatDuration(DEFAULT_PROXY_PROTOCOL_TIMEOUT_MS) }),
  })
  .refine((p) => p.allowV1 || p.allowV2, { error: 'allowV1 and allowV2 are both false: no header could be accepted' });

const tlsInspector = z.strictObject({
  timeout: duration.refine((ms) => ms > 0, { error: 'must be more than 0' }).optional().meta({ default: formatDuration(DEFAULT_TLS_INSPECTOR_TIMEOUT_MS) }),
});

// "Exactly one kind per entry" is checked in cross-checks-filter-chains.ts, with the other rules
// that span keys, so its error comes out in the same pass as the rest.
const entry = z.strictObject({ proxyProtocol: proxyProtocol.optional(), tlsInspector: tlsInspector.optional() });

export const listenerFiltersSchema = z.array(entry, { error: 'must be a list of listener filters, such as [{ proxyProtocol: {} }]' });

type FileEntry = z.output<typeof entry>;

/** Adds `listenerFilters` to a normalized listener when its file lists any, defaults filled in. */
export function withListenerFilters<L extends object>(listener: L, entries: readonly FileEntry[] | undefined): L {
  if (entries === undefined || entries.length === 0) return listener;
  return { ...listener, listenerFilters: entries.map(normalizeEntry) };
}

// The cross-checks guarantee exactly one kind per entry before normalize runs; the throw marks a bug.
function normalizeEntry(e: FileEntry): ListenerFilterConfig {
  if (e.proxyProtocol !== undefined) {
    const p = e.proxyProtocol;
    return { proxyProtocol: { allowV1: p.allowV1, allowV2: p.allowV2, required: p.required, timeoutMs: p.timeout ?? DEFAULT_PROXY_PROTOCOL_TIMEOUT_MS } };
  }
  if (e.tlsInspector !== undefined) return { tlsInspector: { timeoutMs: e.tlsInspector.timeout ?? DEFAULT_TLS_INSPECTOR_TIMEOUT_MS } };
  throw new Error('unreachable: cross-checks require exactly one kind per listener filter entry');
}
