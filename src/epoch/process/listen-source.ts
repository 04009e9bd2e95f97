/**
 * A worker's listening socket as a source of handles (proxy/limits/types.ts `ListenSource`).
 * The worker keeps one close-on-exec duplicate of the received fd for as long as it may
 * accept; each handle listens on a fresh duplicate of that one and closes only its own fd
 * when it is closed, so a pause at a connection cap loses nothing from the accept queue. The
 * supervisor's socket keeper holds the socket as well, but the worker's own fd keeps it alive
 * even when the supervisor is gone.
 */
import { closeSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import type { ListenSource } from '../../proxy/index.js';
import type { NativeSockets } from '../../native.js';

export class FdListenSource implements ListenSource {
  #fd: number;

  /** `fd`: a listening socket this source now owns (it closes it in `close`). */
  constructor(
    private readonly native: NativeSockets,
    fd: number,
  ) {
    this.#fd = fd;
  }

  listen(): Server {
    const server = createServer();
    server.listen({ fd: this.native.dupCloexec(this.#fd) });
    return server;
  }

  close(): void {
    if (this.#fd === -1) return;
    closeSync(this.#fd);
    this.#fd = -1;
  }
}
