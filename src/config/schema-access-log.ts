import { resolve } from 'node:path';
import * as z from 'zod';
import { parseFormat } from '../proxy/access-log/parse.js';
import type { AccessLogConfig } from './types-access-log.js';

/**
 * `listeners[].accessLog`: a list of `{ path, format }` or `{ path, json }`. Formats are
 * parsed here (the same parser the workers compile with), so an unknown operator or an
 * unbalanced "%" is a config error at the format's position. Rules that need the file system
 * or span keys (the directory exists, not both format and json) are in access-log-checks.ts.
 */

/** Used when an entry has neither `format` nor `json`; one per listener protocol. */
export const DEFAULT_ACCESS_LOG_FORMAT = {
  http: '[%START_TIME%] "%REQ(:METHOD)% %REQ(:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"',
  tcp: '[%START_TIME%] %DOWNSTREAM_REMOTE_ADDRESS% -> %UPSTREAM_HOST% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION%',
} as const;

const format = z.string({ error: 'must be a string (an access log format)' }).transform((text, ctx) => {
  // A YAML block scalar ends with a newline; the line's own newline is proxyctl's.
  const line = text.endsWith('\n') ? text.slice(0, -1) : text;
  const parsed = parseFormat(line);
  if (parsed.ok) return line;
  for (const p of parsed.problems) ctx.issues.push({ code: 'custom', message: `at character ${p.offset + 1}: ${p.message}`, input: text });
  return z.NEVER;
});

const entry = z.strictObject({
  path: z.string({ error: 'must be a file path' }).min(1, { error: 'must be a file path' }),
  format: format.optional(),
  json: z.record(z.string().min(1, { error: 'a JSON key must not be empty' }), format).optional(),
});

export const accessLogList = z.array(entry, { error: 'must be a list of { path, format } or { path, json }' });

type FileEntry = z.output<typeof entry>;

/** Adds `accessLog` to a normalized listener when its file lists any; paths made absolute. */
export function withAccessLog<L extends { readonly protocol: 'http' | 'tcp' }>(listener: L, entries: readonly FileEntry[] | undefined, baseDir: string): L {
  if (entries === undefined || entries.length === 0) return listener;
  const accessLog: AccessLogConfig[] = entries.map((e) => ({
    path: resolve(baseDir, e.path),
    format: e.json !== undefined ? null : (e.format ?? DEFAULT_ACCESS_LOG_FORMAT[listener.protocol]),
    json: e.json ?? null,
  }));
  return { ...listener, accessLog };
}
