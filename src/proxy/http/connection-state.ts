/**
 * The state an HTTP/1 downstream connection is in (connection-base.ts): its phase, why its
 * reads are paused, and the two bounds on them. Const enums: they compile to numbers, so the
 * per-read checks on the hot path compare small integers.
 */

export const enum Phase {
  /** Between requests, or reading a request head. */
  Idle,
  /** An exchange is in progress. */
  Active,
  /** Upgraded (101): bytes pass through both ways, until either side closes or it idles out. */
  Tunnel,
  /** Our side is ended; waiting for the peer to close (bounded by LINGER_MS). */
  Closing,
  Closed,
}

export const enum Paused {
  No = 0,
  /** The upstream's write buffer is full (request body). */
  Upstream = 1,
  /** Too many pipelined bytes waiting. */
  Pipeline = 2,
}

/** Pipelined bytes kept while an exchange runs before reads pause. */
export const MAX_PIPELINE_BYTES = 256 * 1024;
/** After our FIN, how long the peer gets to close before the socket is destroyed. */
export const LINGER_MS = 5_000;
