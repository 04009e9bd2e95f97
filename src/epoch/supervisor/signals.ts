import type { LogFile, Logger } from '../../log.js';
import type { Supervisor } from './supervisor.js';

/**
 * The supervisor's signals: SIGHUP reloads the current config file, SIGTERM and SIGINT stop
 * gracefully (a second SIGINT, an impatient Ctrl-C, stops now), SIGUSR1 reopens the log file
 * after logrotate moved it and is passed on to every epoch, which reopens its access logs.
 * Returns a function that removes the handlers.
 */
export function installSignals(sup: Supervisor, log: Logger, logFile: LogFile | null): () => void {
  let interrupts = 0;
  const handlers: Partial<Record<NodeJS.Signals, () => void>> = {
    SIGHUP: () => {
      log.info('SIGHUP: reloading');
      sup.reload(null).then(
        (r) => log.info(`SIGHUP reload done: epoch ${r.epoch} active`, { epochPid: r.pid, coalesced: r.coalesced }),
        (err: unknown) => log.error('SIGHUP reload failed', { error: err }),
      );
    },
    SIGTERM: () => void sup.stop(false),
    SIGINT: () => void sup.stop(++interrupts > 1),
    SIGUSR1: () => {
      logFile?.reopen();
      log.info('log file reopened');
      const told = sup.reopenAccessLogs();
      log.info('SIGUSR1 passed on to the epochs: they reopen their access logs', { epochs: told });
    },
  };
  for (const [signal, handler] of Object.entries(handlers)) process.on(signal, handler);
  return () => {
    for (const [signal, handler] of Object.entries(handlers)) process.off(signal, handler);
  };
}
