import * as z from 'zod';
import { duration } from './schema-scalars.js';
import { formatDuration } from './duration.js';
import { DEFAULT_TIMEOUTS, LISTENER_TIMEOUT_NAMES } from '../proxy/timeouts.js';
import type { ListenerTimeoutsConfig } from './types.js';

/**
 * `listeners[].timeouts`: how long a downstream peer may stall before it is cut (the reasons
 * for the defaults are in proxy/timeouts.ts). Only the keys the file sets reach the config, so
 * the others follow the plane's defaults and a config without them keeps its shape and hash.
 * Which keys fit which protocol (tcpIdle: tcp; the rest: http) is checked in cross-checks.ts.
 */

const positive = duration.refine((ms) => ms > 0, { error: 'must be more than 0' });
const d = (ms: number, description: string) => positive.optional().meta({ default: formatDuration(ms), description });

export const listenerTimeoutsSchema = z
  .strictObject({
    requestHeaders: d(DEFAULT_TIMEOUTS.headerReadMs, 'http: from the first byte of a request head to its end; then 408 and close (nginx client_header_timeout, HAProxy timeout http-request).'),
    idle: d(DEFAULT_TIMEOUTS.idleMs, 'http: a keep-alive connection (an HTTP/2 session) with no request in flight is closed after this.'),
    requestBody: d(DEFAULT_TIMEOUTS.requestBodyMs, 'http: the longest gap between two reads of a request body; 408 if no response has started, else close (nginx client_body_timeout).'),
    send: d(DEFAULT_TIMEOUTS.sendMs, 'http: a response write that made no progress for this long (the client does not read) closes the connection (nginx send_timeout).'),
    tcpIdle: d(DEFAULT_TIMEOUTS.tcpIdleMs, 'tcp: a connection with no byte either way for this long is closed (Envoy tcp_proxy idle_timeout).'),
  })
  .meta({ id: 'listenerTimeouts', description: 'How long a downstream peer may stall before the listener cuts it.' });

type FileTimeouts = z.output<typeof listenerTimeoutsSchema>;

/** Adds `timeouts` to a normalized listener when its file sets any, with only the keys it sets. */
export function withTimeouts<L extends object>(listener: L, t: FileTimeouts | undefined): L {
  if (t === undefined) return listener;
  const out: { -readonly [K in keyof ListenerTimeoutsConfig]: number } = {};
  for (const n of LISTENER_TIMEOUT_NAMES) {
    const ms = t[n.file];
    if (ms !== undefined) out[n.config] = ms;
  }
  return Object.keys(out).length === 0 ? listener : { ...listener, timeouts: out };
}
