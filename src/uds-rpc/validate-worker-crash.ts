/** Validators of the worker-crash report (messages-worker-crash.ts), for METHODS in validate.ts. */
import { bool, int, plain, str } from './json-fields.js';
import type { WorkerCrashedReply, WorkerCrashedRequest } from './messages-worker-crash.js';

export const WORKER_CRASH_METHODS = {
  workerCrashed: {
    request: plain((o): WorkerCrashedRequest => ({ type: 'workerCrashed', worker: int(o, 'worker', 0), reason: str(o, 'reason') })),
    reply: plain((o): WorkerCrashedReply => ({ type: 'workerCrashed', replacing: bool(o, 'replacing') })),
  },
};
