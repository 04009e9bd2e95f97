/**
 * PROXYCTL_TEST_FAULT: a test hook that makes one epoch fail at a chosen step of its boot, so
 * tests (and `proxyctl reload --test-fault`) can prove that a bad new epoch never disturbs the
 * serving one. The supervisor sets it for one epoch only. This is the only place that reads it.
 *
 *   crash-before-ready    right after sockets_received: exit 70 with no cleanup.
 *   hang-before-ready     after sockets_received: never send ready; handlers still answer (terminate).
 *   crash-after-ready     300 ms after the workers started accepting: exit 70 with no cleanup.
 *   crash-worker          1 s after the workers started accepting: worker 0 throws an uncaught
 *                         error. The epoch serves on with its other workers and asks the
 *                         supervisor for a replacement (epoch-process.ts #workerCrashed).
 *   incompatible-version  say hello with protocolVersion = real + 1000; the supervisor refuses
 *                         (PROXYCTL_ERR_HOT_RESTART_VERSION) and the epoch exits 75.
 *
 * Unset or empty: no fault. Any other value is logged as a warning and ignored.
 */
import type { Logger } from '../../log.js';

export type TestFault = 'crash-before-ready' | 'hang-before-ready' | 'crash-after-ready' | 'crash-worker' | 'incompatible-version';

const FAULTS: readonly TestFault[] = ['crash-before-ready', 'hang-before-ready', 'crash-after-ready', 'crash-worker', 'incompatible-version'];

/** How long after accepting `crash-after-ready` waits before it crashes. */
export const CRASH_AFTER_READY_MS = 300;

/** How long after accepting `crash-worker` waits before worker 0 throws: time for a test to put requests in flight. */
export const CRASH_WORKER_AFTER_MS = 1_000;

/** How far `incompatible-version` moves the protocol version it announces. */
export const INCOMPATIBLE_VERSION_OFFSET = 1000;

export function readTestFault(env: NodeJS.ProcessEnv, log: Logger): TestFault | null {
  const value = env.PROXYCTL_TEST_FAULT;
  if (value === undefined || value === '') return null;
  if ((FAULTS as readonly string[]).includes(value)) {
    log.warn('test fault armed', { fault: value });
    return value as TestFault;
  }
  log.warn('unknown PROXYCTL_TEST_FAULT ignored', { value, known: FAULTS.join(',') });
  return null;
}
