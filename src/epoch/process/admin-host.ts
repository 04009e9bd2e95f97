/**
 * The admin API's host-wide requests, sent to the supervisor over this epoch's hot-restart
 * connection: the health-check flag (messages-admin.ts), and the command line's own drain and
 * stop. The health-check flag is kept here too, as the supervisor
 * last confirmed it (or sent it with the config), so `/ready` answers without a round trip.
 */
import type { AdminHost } from '../../admin/types.js';
import type { RpcConnection } from '../../uds-rpc/index.js';

/** A drain waits for the listeners to close and the drain to start: it is not instant. */
const DRAIN_TIMEOUT_MS = 10_000;

export class EpochAdminHost implements AdminHost {
  #failed: boolean;

  constructor(
    private readonly conn: RpcConnection,
    failed: boolean,
  ) {
    this.#failed = failed;
  }

  healthFailed(): boolean {
    return this.#failed;
  }

  async setHealthFailed(failed: boolean): Promise<void> {
    const { body } = await this.conn.request({ type: 'hostHealth', failed });
    this.#failed = body.failed;
  }

  async drainListeners(graceful: boolean): Promise<{ epoch: number; connections: number }> {
    const { body } = await this.conn.request({ type: 'drainHost', graceful }, { timeoutMs: DRAIN_TIMEOUT_MS });
    return { epoch: body.epoch, connections: body.connections };
  }

  async quit(): Promise<number> {
    return (await this.conn.request({ type: 'stop', now: false })).body.pid;
  }
}
