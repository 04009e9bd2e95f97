/** Validators of the admin endpoint's requests (messages-admin.ts), for METHODS in validate.ts. */
import { bool, plain, type JsonObject } from './json-fields.js';
import type { HostHealthReply, HostHealthRequest, HostIntent } from './messages-admin.js';

export const ADMIN_METHODS = {
  hostHealth: {
    request: plain((o): HostHealthRequest => ({ type: 'hostHealth', failed: bool(o, 'failed') })),
    reply: plain((o): HostHealthReply => ({ type: 'hostHealth', failed: bool(o, 'failed') })),
  },
};

/** The HostIntent of a config reply: absent (an older supervisor) reads as no intent. */
export function hostIntent(o: JsonObject): HostIntent {
  return o.hostHealthFailed === undefined ? {} : { hostHealthFailed: bool(o, 'hostHealthFailed') };
}
