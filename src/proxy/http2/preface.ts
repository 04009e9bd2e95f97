/**
 * On a listener with `http2: true`, the first bytes decide the protocol: the HTTP/2 client
 * connection preface (RFC 9113 3.4, prior knowledge) makes it an HTTP/2 session, anything else
 * an HTTP/1 connection that gets those bytes as its first read. Until then this stands in the
 * listener's set, so drain, timeouts and close see the connection from its first moment.
 */
import type { Socket } from 'node:net';
import type { ConnectionContext, DownstreamConnection } from '../connection-types.js';
import type { HttpListenerSnapshot } from '../types.js';
import { HttpConnection } from '../http/connection.js';
import { Http2Connection } from './session.js';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export class PrefaceSniffer implements DownstreamConnection {
  private seen: Buffer | null = null;
  private decided = false;
  /** Until the first byte the connection is idle (`idle`); from it, the preface or head is being read (`requestHeaders`). */
  private deadline: number;

  constructor(
    readonly socket: Socket,
    private readonly ctx: ConnectionContext,
  ) {
    this.deadline = ctx.clock.now + ctx.timeouts.idleMs;
    socket.on('data', this.onData);
    socket.on('error', ignoreError);
    socket.on('close', this.onClose);
  }

  onTick(now: number): void {
    if (now < this.deadline) return;
    const http = (this.ctx.listener as HttpListenerSnapshot).http;
    (this.seen === null ? http.cxIdleTimeout : http.rqHeaderTimeout).inc();
    this.destroy(); // a part of the preface: nothing can be answered in either protocol
  }

  drain(): void {
    // Nothing has been asked yet; the deadline's closeIfIdle covers a client that never speaks.
  }

  closeIfIdle(): boolean {
    if (this.seen !== null) return false;
    this.ctx.listener.stats.cxDrainIdleClose.inc();
    this.socket.end();
    return true;
  }

  destroy(): void {
    this.socket.destroy();
  }

  private readonly onData = (chunk: Buffer): void => {
    const buf = this.seen === null ? chunk : Buffer.concat([this.seen, chunk]);
    const n = Math.min(buf.length, PREFACE.length);
    if (buf.compare(PREFACE, 0, n, 0, n) !== 0) {
      this.decide(false, buf);
      return;
    }
    if (n === PREFACE.length) this.decide(true, buf);
    else {
      if (this.seen === null) this.deadline = this.ctx.clock.now + this.ctx.timeouts.headerReadMs;
      this.seen = buf;
    }
  };

  private decide(h2: boolean, buf: Buffer): void {
    this.decided = true;
    const s = this.socket;
    s.off('data', this.onData);
    s.off('error', ignoreError);
    s.off('close', this.onClose);
    if (h2) {
      s.pause();
      s.unshift(buf);
      this.ctx.handOff(this, new Http2Connection(s, this.ctx));
      return;
    }
    const conn = new HttpConnection(s, this.ctx);
    this.ctx.handOff(this, conn);
    conn.feed(buf);
  }

  private readonly onClose = (): void => {
    if (!this.decided) this.ctx.onClosed(this);
  };
}

function ignoreError(): void {}
