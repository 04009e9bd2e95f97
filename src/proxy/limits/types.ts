/**
 * Connection limits (HAProxy's maxconn, Envoy's listener max_connections and
 * global_downstream_max_connections): a worker whose listener, or whose epoch, reached its cap
 * stops accepting, so the connections past it wait in the kernel's accept queue instead of
 * being accepted and reset, and it starts again as soon as a connection closes.
 */
import type { Server } from 'node:net';

/**
 * The caps of one epoch and the counts its workers share. `counts` is an Int32Array's buffer:
 * index 0 counts the epoch's connections, index `listeners[name].index` one listener's. A cap
 * of 0 is no cap. Built by the epoch's main thread, posted to every worker (shared, not copied).
 */
export interface ConnectionLimitsInit {
  readonly counts: SharedArrayBuffer;
  readonly overall: number;
  readonly listeners: Readonly<Record<string, { readonly index: number; readonly cap: number }>>;
}

/**
 * Makes listening handles on one listening socket whose accept queue outlives each handle:
 * the source holds its own fd for the socket, so closing a handle (a pause) loses nothing
 * queued, and a new handle (the resume) takes the queue up where the last one left it.
 */
export interface ListenSource {
  /** A new server listening on a new duplicate of the socket's fd; it reports accept errors as 'error'. */
  listen(): Server;
  /** Closes the source's own fd; handles made before go on until they are closed. */
  close(): void;
}

/** What a listener's gate tells it: stop accepting, or start again. */
export interface Pausable {
  pauseAccepting(): void;
  resumeAccepting(): void;
}
