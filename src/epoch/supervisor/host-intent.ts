/**
 * What the operator asked of the host through the admin API (today: `/healthcheck/fail`).
 * The supervisor keeps it, not an epoch, so it survives reloads and respawns: each new epoch
 * gets it with its config (getConfig, activate). It lives only as long as the supervisor: a
 * fresh `proxyctl start` begins with the host passing its health checks.
 */
import type { Logger } from '../../log.js';
import type { HostIntent } from '../../uds-rpc/index.js';

export class HostIntentKeeper {
  #intent: HostIntent = {};

  constructor(private readonly log: Logger) {}

  get intent(): HostIntent {
    return this.#intent;
  }

  setHealthFailed(failed: boolean): void {
    if ((this.#intent.hostHealthFailed === true) !== failed) this.log.info(failed ? 'admin: host health checks now fail (/ready answers 503)' : 'admin: host health checks pass again');
    this.#intent = failed ? { hostHealthFailed: true } : {};
  }
}
