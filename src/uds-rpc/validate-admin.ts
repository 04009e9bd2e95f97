/** Validators of the admin endpoint's requests (messages-admin.ts), for METHODS in validate.ts. */
import { bool, int, plain, validateEmpty, type JsonObject } from './json-fields.js';
import type { AdminDrainReply, AdminDrainRequest, AdminQuitReply, HostHealthReply, HostHealthRequest, HostIntent } from './messages-admin.js';

export const ADMIN_METHODS = {
  hostHealth: {
    request: plain((o): HostHealthRequest => ({ type: 'hostHealth', failed: bool(o, 'failed') })),
    reply: plain((o): HostHealthReply => ({ type: 'hostHealth', failed: bool(o, 'failed') })),
  },
  adminDrain: {
    request: plain((o): AdminDrainRequest => ({ type: 'adminDrain', graceful: bool(o, 'graceful') })),
    reply: plain((o): AdminDrainReply => ({ type: 'adminDrain', epoch: int(o, 'epoch', 0), connections: int(o, 'connections', 0) })),
  },
  adminQuit: { request: validateEmpty('adminQuit'), reply: plain((o): AdminQuitReply => ({ type: 'adminQuit', pid: int(o, 'pid', 0) })) },
};

/** The HostIntent of a config reply: absent (an older supervisor) reads as no intent. */
export function hostIntent(o: JsonObject): HostIntent {
  return o.hostHealthFailed === undefined ? {} : { hostHealthFailed: bool(o, 'hostHealthFailed') };
}
