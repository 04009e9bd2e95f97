/**
 * One accepted socket going through its listener's filters. Until the last filter says
 * Continue, this stands in the listener's set (like a pending TLS handshake), so drain,
 * `hurry` and `closeAll` reach the connection from its first moment; it closes through
 * `host.onClosed` if the socket goes away first.
 *
 * The bytes read are kept in one buffer; each filter consumes a prefix of it. What no filter
 * consumed is given back to the socket (`unshift`, with the socket paused) before the host
 * hands it on, so the next stage (TLS termination or the network filter) reads it first.
 */
import type { Socket } from 'node:net';
import type { DownstreamConnection } from '../connection-types.js';
import { ListenerFilterStatus, type ListenerFilter } from './types.js';

/** What a run needs from its listener. */
export interface ListenerFilterHost {
  /** Coarse clock (ms), refreshed each plane tick; timeouts are checked on ticks. */
  readonly clock: { readonly now: number };
  /** Every filter let `run` through: its socket (paused, unread bytes unshifted) goes on. */
  listenerFiltersDone(run: ListenerFilterRun): void;
  /** The socket of `run` closed before the filters were done. */
  onClosed(conn: DownstreamConnection): void;
}

export class ListenerFilterRun implements DownstreamConnection {
  /** The earliest `drain(at)` received; the host passes it on to what replaces this run. */
  drainAt = Infinity;
  private index = 0;
  private buf: Buffer | null = null;
  private deadline: number;
  private done = false;

  constructor(
    readonly socket: Socket,
    private readonly filters: readonly ListenerFilter[],
    private readonly host: ListenerFilterHost,
  ) {
    this.deadline = host.clock.now + (filters[0] as ListenerFilter).timeoutMs;
    socket.on('data', this.onData);
    socket.on('error', ignoreError);
    socket.on('close', this.onClose);
  }

  onTick(now: number): void {
    if (this.done || now < this.deadline) return;
    (this.filters[this.index] as ListenerFilter).timedOut();
    this.socket.destroy();
  }

  drain(at: number): void {
    if (at < this.drainAt) this.drainAt = at;
  }

  /** Nothing can be in flight before the filters are done: at the drain deadline (or a `hurry`) it is closed. */
  closeIfIdle(): boolean {
    this.socket.destroy();
    return true;
  }

  destroy(): void {
    this.socket.destroy();
  }

  private readonly onData = (chunk: Buffer): void => {
    let buf = this.buf === null ? chunk : Buffer.concat([this.buf, chunk]);
    for (;;) {
      const filter = this.filters[this.index] as ListenerFilter;
      const v = filter.onData(buf, this.socket);
      if (v.status === ListenerFilterStatus.NeedMoreData) {
        this.buf = buf;
        return;
      }
      if (v.status === ListenerFilterStatus.Close) {
        this.buf = null;
        this.socket.destroy();
        return;
      }
      buf = buf.subarray(v.consumed);
      this.index++;
      if (this.index === this.filters.length) {
        this.finish(buf);
        return;
      }
      this.deadline = this.host.clock.now + (this.filters[this.index] as ListenerFilter).timeoutMs;
      // The next filter decides from bytes; with none left it waits for the next read.
      if (buf.length === 0) {
        this.buf = null;
        return;
      }
    }
  };

  private finish(rest: Buffer): void {
    this.done = true;
    this.buf = null;
    const s = this.socket;
    s.off('data', this.onData);
    s.off('error', ignoreError);
    s.off('close', this.onClose);
    s.pause();
    if (rest.length > 0) s.unshift(rest);
    this.host.listenerFiltersDone(this);
  }

  private readonly onClose = (): void => {
    if (!this.done) this.host.onClosed(this);
  };
}

function ignoreError(): void {}
