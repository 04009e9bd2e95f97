/**
 * The supervisor's end of the hot-restart socket: the RPC server with the supervisor's
 * handlers, the check that a connecting epoch is one this supervisor started (its pid, from
 * SO_PEERCRED), and the refusals the server recorded (a peer with another protocol or stats
 * layout), kept by pid so that epoch's start fails with the reason.
 */
import type { ProxyctlError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { createRpcServer, type RpcConnection, type RpcServer } from '../../uds-rpc/index.js';
import type { EpochTable } from './epoch-table.js';
import { supervisorHandlers, type SupervisorControl } from './rpc-handlers.js';

export class HotRestartServer {
  readonly #server: RpcServer;
  readonly #refusals = new Map<number, ProxyctlError>();

  constructor(
    path: string,
    control: SupervisorControl,
    private readonly epochs: EpochTable,
    private readonly log: Logger,
  ) {
    this.#server = createRpcServer({ path, hello: { role: 'supervisor', epoch: -1 }, handlers: supervisorHandlers(control) });
    this.#server.on('connection', this.#onConnection);
    this.#server.on('refused', (reason: ProxyctlError) => {
      const pid = reason.details.pid;
      if (typeof pid === 'number') this.#refusals.set(pid, reason);
      this.log.warn('refused a hot-restart peer', { code: reason.code, reason: reason.message });
    });
    this.#server.on('error', (err: ProxyctlError) => this.log.error('the hot-restart socket stopped accepting; reloads and the CLI cannot reach this supervisor', { error: err }));
  }

  listen(): Promise<void> {
    return this.#server.listen();
  }

  close(): void {
    this.#server.close();
  }

  /** Why the server refused the epoch with this pid, or null. */
  refusalOf(pid: number): ProxyctlError | null {
    return this.#refusals.get(pid) ?? null;
  }

  /** The epoch with this pid is gone: its refusal, if any, is of no more use. */
  forget(pid: number): void {
    this.#refusals.delete(pid);
  }

  readonly #onConnection = (conn: RpcConnection): void => {
    const peer = conn.peer;
    if (peer === null || peer.role !== 'epoch') return;
    const pid = conn.peerCredentials?.pid ?? peer.pid;
    const epoch = this.epochs.awaitingHello(peer.epoch);
    if (epoch === undefined || epoch.pid !== pid) {
      this.log.warn('an epoch we did not start connected; closing it', { peerEpoch: peer.epoch, peerPid: pid });
      conn.close();
      return;
    }
    epoch.attach(conn);
  };
}
