/** Responses the proxy makes itself (404, 503, …): built once per process, like direct responses. */
import { directResponse } from '../snapshot.js';
import type { DirectResponseSnapshot } from '../types.js';

const cache = new Map<number, DirectResponseSnapshot>();

export function localReply(status: number): DirectResponseSnapshot {
  let r = cache.get(status);
  if (r === undefined) {
    r = directResponse({ status, body: `${status}\n` });
    cache.set(status, r);
  }
  return r;
}

/** A redirect: built per request (the Location differs), which only redirect routes pay for. */
export function redirectReply(status: number, location: string): DirectResponseSnapshot {
  return directResponse({ status, body: '' }, `location: ${location}\r\n`);
}

// Resolved up front so the hot path holds the objects, not a lookup.
export const REPLY_400 = localReply(400);
export const REPLY_404 = localReply(404);
export const REPLY_408 = localReply(408);
export const REPLY_431 = localReply(431);
export const REPLY_502 = localReply(502);
export const REPLY_503 = localReply(503);
export const REPLY_504 = localReply(504);
