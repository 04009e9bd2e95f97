/**
 * Listener filters: they run on an accepted socket, in the order configured, before its
 * filter chain is chosen (filter-chains/), before TLS termination and before the network
 * filter. Each sees the bytes read so far that earlier
 * filters did not consume, and answers with a verdict; the run (run.ts) does the reading, the
 * timeout, and hands what is left of the bytes to the next stage with `socket.unshift()`.
 *
 * A filter object is built once per snapshot and shared by every connection: per-connection
 * state is the run's buffer, so `onData` must decide from `buf` alone.
 */
import type { Socket } from 'node:net';

export const enum ListenerFilterStatus {
  /** Not enough bytes to decide: the run reads more and calls `onData` again with all of them. */
  NeedMoreData,
  /** Done: the first `consumed` bytes were this filter's; the rest go to the next filter or stage. */
  Continue,
  /** Refuse the connection: the run destroys the socket (the filter has counted why). */
  Close,
}

export type ListenerFilterVerdict =
  | { readonly status: ListenerFilterStatus.NeedMoreData }
  | { readonly status: ListenerFilterStatus.Continue; readonly consumed: number }
  | { readonly status: ListenerFilterStatus.Close };

export interface ListenerFilter {
  readonly name: string;
  /** How long this filter may wait for bytes, from when it starts; then `timedOut` and the socket is destroyed. */
  readonly timeoutMs: number;
  /**
   * `buf` holds every unconsumed byte read so far (never empty). May record facts about
   * `socket`. The run keeps reading while the answer is NeedMoreData, so a filter must bound
   * what it waits for (the PROXY protocol: 107 bytes for v1, 2064 for v2; the TLS inspector:
   * 16 KiB) and say Close past it.
   */
  onData(buf: Buffer, socket: Socket): ListenerFilterVerdict;
  /** The timeout passed before a verdict: count it. */
  timedOut(): void;
}
