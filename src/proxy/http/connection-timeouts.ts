/**
 * What happens when an HTTP/1 connection's clock runs out, on the plane's coarse tick
 * (data-plane.ts: one interval per plane, not a timer per connection; each connection keeps a
 * `deadline` and is asked here whether it has passed). Between requests it is the idle timeout, while a head arrives
 * `requestHeaders`, while closing the linger; during an exchange exchange-clocks.ts says which
 * side stalled. The machinery it acts on is connection-base.ts; what a stalled exchange means
 * (a 408, a 504, a cut) is the subclass's, through the hooks here.
 */
import type { HttpListenerSnapshot } from '../types.js';
import { H1Connection } from './connection-base.js';
import { Paused, Phase } from './connection-state.js';
import { Stall } from './exchange-clocks.js';
import { REPLY_408 } from './local-reply.js';

export abstract class TimedH1Connection extends H1Connection {
  /** The connection timer expired during an exchange. */
  protected abstract exchangeTimedOut(now: number): void;
  /** The request body stalled past `requestBody` (counted): 408 if nothing of a response went out, else close. */
  protected abstract bodyTimedOut(): void;
  /** A response write stalled past `send` (counted): the connection is cut. */
  protected abstract timedOutCut(): void;

  onTick(now: number): void {
    if (this.phase === Phase.Active) {
      this.activeTick(now);
      return;
    }
    if (now < this.deadline) return;
    switch (this.phase) {
      case Phase.Idle:
        if (this.pending !== null) this.headerTimedOut();
        else {
          this.http.cxIdleTimeout.inc();
          this.gracefulClose();
        }
        return;
      case Phase.Tunnel:
        this.destroy(); // no byte either way for idleMs
        return;
      default:
        this.destroy();
    }
  }

  /** During an exchange: the side that stalled is cut (exchange-clocks.ts says which clock applies). */
  private activeTick(now: number): void {
    const t = this.ctx.timeouts;
    switch (this.clocks.check(now, this.socket, t, !this.reqDone && (this.paused & Paused.Upstream) === 0, this.deadline)) {
      case Stall.Send:
        this.http.rqSendTimeout.inc();
        this.timedOutCut();
        return;
      case Stall.SendBlocked:
        this.deadline = Math.max(this.deadline, now + t.upstreamResponseMs); // the upstream waits for us
        return;
      case Stall.Body:
        this.http.rqIdleTimeout.inc();
        this.bodyTimedOut();
        return;
      case Stall.Upstream:
        this.exchangeTimedOut(now);
        return;
      default:
    }
  }

  /** A request head did not arrive in full within `requestHeaders`: 408, and the connection closes. */
  private headerTimedOut(): void {
    const http = (this.ctx.listener as HttpListenerSnapshot).http;
    http.rqHeaderTimeout.inc();
    http.rqTotal.inc(); // counted as a request, as a malformed head is
    this.pending = null;
    this.reject(REPLY_408, false);
  }
}
