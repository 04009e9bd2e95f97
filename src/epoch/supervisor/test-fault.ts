/**
 * PROXYCTL_TEST_SUPERVISOR_FAULT: a test hook, not for production, that SIGKILLs the
 * supervisor itself at one step of a reload, so tests can prove that the epochs it leaves
 * behind (the old one and the new one) shut down by themselves and that the next `proxyctl
 * start` on the base id brings back a healthy state. Set by a test on `proxyctl start`; it
 * fires at the first reload that reaches its step (epoch 0's start is not a reload). This is
 * the only place that reads it.
 *
 *   die-after-spawned   the new epoch's process was spawned, before its hello
 *   die-after-hello     the new epoch said hello
 *   die-after-sockets   the new epoch received its listening sockets
 *   die-after-ready     the new epoch was acknowledged ready and made active, before the old
 *                       one was told to drain
 *
 * `spawned` and `hello` need a freshly spawned epoch (`standby: false`, or `reload --cold`).
 * Unset or empty: no fault. Any other value is logged as a warning and ignored.
 */
import type { Logger } from '../../log.js';

/** The steps of a reload a fault can be armed at. */
export type ReloadStep = 'spawned' | 'hello' | 'sockets' | 'ready';

const STEPS: readonly ReloadStep[] = ['spawned', 'hello', 'sockets', 'ready'];

/** Awaited at each step of a reload; never settles at the armed one (the process is gone). */
export type ReloadCheckpoint = (step: ReloadStep) => Promise<void>;

export function readSupervisorFault(env: NodeJS.ProcessEnv, log: Logger): ReloadCheckpoint | null {
  const value = env.PROXYCTL_TEST_SUPERVISOR_FAULT;
  if (value === undefined || value === '') return null;
  const armed = STEPS.find((s) => value === `die-after-${s}`);
  if (armed === undefined) {
    log.warn('unknown PROXYCTL_TEST_SUPERVISOR_FAULT ignored', { value, known: STEPS.map((s) => `die-after-${s}`).join(',') });
    return null;
  }
  log.warn('supervisor test fault armed', { fault: value });
  return (step) => (step === armed ? dieSoon(value, log) : Promise.resolve());
}

/**
 * SIGKILL, one turn of the event loop later: the replies already written (the ready ack) reach
 * their peers, and nothing that waits for I/O runs in between.
 */
function dieSoon(fault: string, log: Logger): Promise<void> {
  return new Promise(() => {
    setImmediate(() => {
      log.warn('supervisor test fault: SIGKILL', { fault });
      process.kill(process.pid, 'SIGKILL');
    });
  });
}
