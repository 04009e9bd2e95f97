/**
 * Which side of an exchange (an HTTP/1 connection's, an HTTP/2 stream's) has stalled, checked on the plane's tick. Three clocks run
 * during an exchange, and the one that applies is that of the side holding it up: a response
 * the client does not read (`send`), a request body the client does not send (`requestBody`),
 * else the upstream (the connection's own deadline, restarted by `waitUpstream`). While the
 * proxy itself holds a side back (reads paused for the upstream, the upstream paused for a
 * full client), that side's clock does not run.
 *
 * `send` counts progress, not completion: the socket's buffered bytes going down between two
 * ticks restart it (nginx's send_timeout is a gap between two writes, too). Node reports a
 * write done per buffer it was given, so progress shows at the granularity of the chunks the
 * upstream sent (at most 64 KiB on a socket).
 */
import type { HttpTimeouts } from '../types.js';

/** What the send clock reads of the downstream side: an HTTP/1 socket, or an HTTP/2 stream. */
export interface DownstreamWritable {
  readonly writableNeedDrain: boolean;
  readonly writableLength: number;
}

export const enum Stall {
  None,
  /** The client's socket (stream) is full and nothing of it drained for `send`. */
  Send,
  /** The client's socket is full, and it is draining: the upstream clock waits for it. */
  SendBlocked,
  /** No request body bytes for `requestBody`. */
  Body,
  /** The upstream's deadline passed. */
  Upstream,
}

export class ExchangeClocks {
  /** While a request body is read: when the gap since its last read reaches `requestBody`. */
  private bodyDeadline = Infinity;
  /** While the socket is full: its buffered bytes at the last progress, and when `send` runs out. */
  private sendMark = Infinity;
  private sendDeadline = Infinity;

  /** A request body byte came (or its reading starts, or resumes after a pause of ours). */
  bodyRead(now: number, t: HttpTimeouts): void {
    this.bodyDeadline = now + t.requestBodyMs;
  }

  /** `bodyOpen`: the request body is still being read and the proxy is not holding it back. */
  check(now: number, socket: DownstreamWritable, t: HttpTimeouts, bodyOpen: boolean, upstreamDeadline: number): Stall {
    if (socket.writableNeedDrain) {
      const left = socket.writableLength;
      if (left < this.sendMark) {
        this.sendMark = left; // progress, or the first tick that saw the socket full
        this.sendDeadline = now + t.sendMs;
      } else if (now >= this.sendDeadline) return Stall.Send;
      return Stall.SendBlocked;
    }
    this.sendMark = Infinity;
    if (bodyOpen) return now >= this.bodyDeadline ? Stall.Body : Stall.None;
    return now >= upstreamDeadline ? Stall.Upstream : Stall.None;
  }
}
