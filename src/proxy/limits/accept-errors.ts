/**
 * Accept failures on a listening handle. libuv already keeps EMFILE/ENFILE from spinning: it
 * closes a reserve fd, accepts the pending connections and closes them, and reopens the
 * reserve, without telling us. What does reach Node's 'error' (the reserve could not be
 * reopened, or another accept error) is counted here as a refused connection and logged at
 * most once per LOG_EVERY_MS per listener, with how many were left out of the log since.
 */
import type { Counter } from '../../shm/handles.js';
import { errnoCode } from '../../errors.js';
import type { ProxyLogger } from '../types.js';

const LOG_EVERY_MS = 10_000;

export class AcceptErrors {
  #loggedAt = -Infinity;
  #unlogged = 0;

  constructor(
    private readonly listener: string,
    private readonly overflow: Counter,
    private readonly log: ProxyLogger,
  ) {}

  readonly onError = (err: Error): void => {
    this.overflow.inc();
    const now = Date.now();
    if (now - this.#loggedAt < LOG_EVERY_MS) {
      this.#unlogged++;
      return;
    }
    this.log.warn?.('accept failed: connection refused', { listener: this.listener, errno: errnoCode(err), error: err.message, unloggedSince: this.#unlogged });
    this.#loggedAt = now;
    this.#unlogged = 0;
  };
}
