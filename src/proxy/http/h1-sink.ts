/**
 * The HTTP/1 codec's end of a filtered exchange (`DownstreamSink`): writes the response the
 * filters produced as an HTTP/1.1 head and body. The framing is chosen here: the filters'
 * `content-length` when there is one, chunked for an HTTP/1.1 client otherwise, and
 * close-delimited for an HTTP/1.0 one.
 *
 * The head of a response with a body is held until the first body bytes, or the end of the
 * current microtask queue at the latest, and goes out with them in one write: a response that
 * came in one upstream read leaves in one syscall, as on the raw path. Writing them apart cost
 * one more write(2) per response (4.1 instead of 3.1 per request through the proxy, counted
 * with strace) and most of the filter chain's price in `npm run bench`.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { DownstreamSink } from './filter-chain-types.js';
import type { HeaderMap, ResponseHeaders } from './filter.js';

const enum Framing {
  None,
  Length,
  Chunked,
  Close,
}

/** What the sink needs from its HTTP/1 connection. */
export interface H1SinkOwner {
  /** What was sent, for the access log. */
  noteResponse(headers: ResponseHeaders): void;
  noteSent(bytes: number): void;
  readonly socket: Socket;
  /** 10 or 11. */
  readonly version: number;
  readonly isHead: boolean;
  /** Decides once per response whether it closes the connection; `structural` forces it. */
  closeDecision(structural: boolean): boolean;
  /** The whole response is written. */
  sent(status: number): void;
  /** The response cannot be completed: close the connection. */
  broken(): void;
  /** The socket is full: hold the upstream. */
  full(): void;
}

export class H1Sink implements DownstreamSink {
  private framing = Framing.None;
  private status = 0;
  /** The head, written with the first body bytes or by `flush`. */
  private pendingHead: Buffer | null = null;
  private readonly flush = (): void => {
    const h = this.pendingHead;
    if (h === null) return;
    this.pendingHead = null;
    this.write(h);
  };

  constructor(private readonly owner: H1SinkOwner) {}

  encodeHeaders(headers: ResponseHeaders, endStream: boolean): void {
    const o = this.owner;
    const status = headers.status;
    this.status = status;
    o.noteResponse(headers);
    if (o.isHead || status === 204 || status === 304 || status < 200) this.framing = Framing.None;
    else if (headers.has('content-length')) this.framing = Framing.Length;
    else if (endStream) {
      headers.set('content-length', '0');
      this.framing = Framing.Length;
    } else this.framing = o.version === 11 ? Framing.Chunked : Framing.Close;
    const close = o.closeDecision(this.framing === Framing.Close);
    let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
    headers.forEach((name, value) => {
      if (name !== 'transfer-encoding' && name !== 'connection') head += `${name}: ${value}\r\n`;
    });
    if (this.framing === Framing.Chunked) head += 'transfer-encoding: chunked\r\n';
    if (close) head += 'connection: close\r\n';
    else if (o.version === 10) head += 'connection: keep-alive\r\n';
    const bytes = Buffer.from(`${head}\r\n`, 'latin1');
    if (endStream) {
      this.write(bytes);
      o.sent(status);
      return;
    }
    this.pendingHead = bytes;
    queueMicrotask(this.flush);
  }

  encodeData(data: Buffer, endStream: boolean): void {
    this.owner.noteSent(data.length);
    const head = this.pendingHead;
    this.pendingHead = null;
    if (this.framing === Framing.Chunked) {
      const parts = head === null ? [] : [head];
      if (data.length > 0) parts.push(Buffer.from(`${data.length.toString(16)}\r\n`, 'latin1'), data, CRLF);
      if (endStream) parts.push(LAST_CHUNK);
      if (parts.length > 0) this.write(parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts));
    } else if (this.framing !== Framing.None && data.length > 0) this.write(head === null ? data : Buffer.concat([head, data]));
    else if (head !== null) this.write(head);
    if (endStream) this.owner.sent(this.status);
  }

  encodeTrailers(trailers: HeaderMap): void {
    this.flush();
    if (this.framing === Framing.Chunked) {
      let t = '0\r\n';
      trailers.forEach((name, value) => {
        t += `${name}: ${value}\r\n`;
      });
      this.write(Buffer.from(`${t}\r\n`, 'latin1'));
    }
    this.owner.sent(this.status);
  }

  reset(): void {
    this.pendingHead = null;
    this.owner.broken();
  }

  private write(b: Buffer): void {
    if (!this.owner.socket.write(b)) this.owner.full();
  }
}

const CRLF = Buffer.from('\r\n', 'latin1');
const LAST_CHUNK = Buffer.from('0\r\n\r\n', 'latin1');
