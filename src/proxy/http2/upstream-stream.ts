/**
 * One request on an HTTP/2 upstream session, shaped as the HTTP/1.1 connection the exchange
 * (http/exchange.ts) expects (`UpstreamConn`), so retries, timeouts, flags and every
 * downstream codec work against an HTTP/2 cluster unchanged.
 *
 * Request: the first write is the head the HTTP/1 hop would send; it is parsed back (head.ts),
 * its hop-by-hop fields dropped, and sent as HEADERS with `:method :scheme :authority :path`.
 * The body that follows is framed as the head says: Content-Length bytes go out as they are, a
 * chunked body is dechunked (body.ts `sink`) into DATA frames, and its end ends the stream.
 *
 * Response: HEADERS become an HTTP/1.1 head for the exchange's reader: with the upstream's
 * Content-Length, or `content-length: 0` when the HEADERS ended the stream, or else
 * `transfer-encoding: chunked`, each DATA frame a chunk and the stream's end the last chunk.
 * Trailers are dropped. This costs a head parse each way and a copy per DATA frame, on
 * HTTP/2 clusters only; the HTTP/1.1 path is untouched.
 */
import { STATUS_CODES } from 'node:http';
import { constants, type ClientHttp2Stream, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import type { UpstreamConn, UpstreamOwner, UpstreamPool } from '../upstream/pool-types.js';
import { BAD_FRAMING, BodyFramer, BodyMode, NEED_MORE } from '../http/body.js';
import { MessageHead, parseRequestHead } from '../http/head.js';
import type { H2UpstreamSession } from './upstream-session.js';

/** Fields of the HTTP/1 hop that HTTP/2 carries otherwise or forbids (RFC 9113 8.2.2). */
const NOT_HTTP2 = new Set(['host', 'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'http2-settings']);
/** Response fields the rebuilt HTTP/1.1 head frames itself. */
const NOT_FROM_HTTP2 = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);
const COLON = 58;
const CRLF = Buffer.from('\r\n', 'latin1');
const LAST_CHUNK = Buffer.from('0\r\n\r\n', 'latin1');

/**
 * The parsed request head. One per thread: it is read only in the synchronous call that
 * parsed it (the line offsets are shared by every MessageHead, message-head.ts). The rebuilt
 * head has a few more fields than the client's, so the limits are the codec's caps.
 */
const REQ = new MessageHead();
REQ.maxBytes = 2 * 1024 * 1024;
REQ.maxFields = 1000;

export class H2UpstreamStream implements UpstreamConn {
  owner: UpstreamOwner | null = null;
  private stream: ClientHttp2Stream | null = null;
  private readonly body = new BodyFramer();
  /** The last write to the stream went through without filling its buffer. */
  private room = true;
  private isHead = false;
  /** The response goes to the reader chunked (no Content-Length came). */
  private chunked = false;
  private responded = false;
  private refused = false;
  private ended = false;
  private readonly toStream = (buf: Buffer, start: number, end: number): void => {
    this.room = (this.stream as ClientHttp2Stream).write(buf.subarray(start, end));
  };

  constructor(private readonly session: H2UpstreamSession) {}

  get pool(): UpstreamPool {
    return this.session.host;
  }

  get wasConnected(): boolean {
    return this.session.connected;
  }

  get failedLocally(): boolean {
    return this.session.failedLocally;
  }

  get unprocessed(): boolean {
    return this.refused && this.session.connected;
  }

  write(chunk: Buffer): boolean {
    const s = this.stream;
    if (s === null) return this.open(chunk);
    if (s.destroyed || s.writableEnded) return true;
    return this.feed(s, chunk, 0);
  }

  end(): void {
    if (this.stream !== null && !this.stream.writableEnded) this.stream.end();
  }

  pause(): void {
    this.stream?.pause();
  }

  resume(): void {
    this.stream?.resume();
  }

  close(): void {
    const s = this.stream;
    if (s !== null && !s.closed) s.close(constants.NGHTTP2_CANCEL);
  }

  // ---- request --------------------------------------------------------------------------------

  private open(buf: Buffer): boolean {
    const h = REQ;
    h.scanOffset = 0; // a whole head every time: no search resumes
    const end = parseRequestHead(buf, 0, h);
    let s: ClientHttp2Stream;
    const mode = end < 0 ? BodyMode.None : h.chunked ? BodyMode.Chunked : h.contentLength > 0 ? BodyMode.Length : BodyMode.None;
    try {
      // The head is the proxy's own rewrite of one the codec accepted; a refusal here is a
      // request HTTP/2 cannot carry (a field node:http2 rejects), or a session that just closed.
      if (end < 0) throw new Error('unparsable upstream head');
      this.isHead = h.isHead;
      s = this.session.session.request(requestHeaders(buf, h, this.session.scheme), { endStream: mode === BodyMode.None });
    } catch {
      this.refused = true;
      setImmediate(failLater, this);
      return true;
    }
    this.stream = s;
    s.on('response', this.onResponse);
    s.on('headers', this.onInterim);
    s.on('data', this.onData);
    s.on('end', this.onEnd);
    s.on('drain', this.onDrain);
    s.on('error', ignoreError); // 'close' follows
    s.on('close', this.onClose);
    if (mode === BodyMode.None) return true;
    this.body.reset(mode, h.contentLength);
    this.body.sink = mode === BodyMode.Chunked ? this.toStream : null;
    return end < buf.length ? this.feed(s, buf, end) : true;
  }

  private feed(s: ClientHttp2Stream, buf: Buffer, pos: number): boolean {
    this.room = true;
    const r = this.body.feed(buf, pos, buf.length);
    if (r === BAD_FRAMING) {
      s.close(constants.NGHTTP2_CANCEL);
      return true;
    }
    if (this.body.sink === null) {
      const end = r === NEED_MORE ? buf.length : r;
      if (end > pos) this.room = s.write(pos === 0 && end === buf.length ? buf : buf.subarray(pos, end));
    }
    if (r !== NEED_MORE) s.end();
    return this.room;
  }

  // ---- response -------------------------------------------------------------------------------

  private readonly onInterim = (headers: IncomingHttpHeaders): void => {
    const status = Number(headers[':status']);
    if (status >= 100 && status < 200 && this.owner !== null) this.owner.onUpstreamData(Buffer.from(`${statusLine(status)}${fieldLines(headers)}\r\n`, 'latin1'));
  };

  private readonly onResponse = (headers: IncomingHttpHeaders, flags: number): void => {
    this.responded = true;
    const status = Number(headers[':status']);
    let framing = '';
    if (!this.isHead && status !== 204 && status !== 304 && headers['content-length'] === undefined) {
      if ((flags & constants.NGHTTP2_FLAG_END_STREAM) !== 0) framing = 'content-length: 0\r\n';
      else {
        framing = 'transfer-encoding: chunked\r\n';
        this.chunked = true;
      }
    }
    if (this.owner !== null) this.owner.onUpstreamData(Buffer.from(`${statusLine(status)}${fieldLines(headers)}${framing}\r\n`, 'latin1'));
  };

  private readonly onData = (chunk: Buffer): void => {
    const o = this.owner;
    if (o === null || chunk.length === 0) return;
    // One buffer per frame: one pass of the reader and one downstream write, not three.
    o.onUpstreamData(this.chunked ? Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`, 'latin1'), chunk, CRLF]) : chunk);
  };

  private readonly onEnd = (): void => {
    if (this.chunked && this.owner !== null) this.owner.onUpstreamData(LAST_CHUNK);
  };

  private readonly onDrain = (): void => {
    if (this.owner !== null) this.owner.onUpstreamDrain();
  };

  private readonly onClose = (): void => {
    const s = this.stream as ClientHttp2Stream;
    // Never processed: refused, above the GOAWAY's last stream id, or never sent at all.
    const last = this.session.goawayLast;
    this.refused = !this.responded && (s.rstCode === constants.NGHTTP2_REFUSED_STREAM || s.id === undefined || (last >= 0 && s.id > last));
    this.closed();
  };

  /** Once per stream: the session's count, then the owner. */
  closed(): void {
    if (this.ended) return;
    this.ended = true;
    this.session.streamEnded();
    const o = this.owner;
    this.owner = null;
    if (o !== null) o.onUpstreamClose(this);
  }
}

/** node:http2 refused the request synchronously: report it as a refused stream, after the exchange's call returned. */
function failLater(s: H2UpstreamStream): void {
  s.closed();
}

function requestHeaders(buf: Buffer, h: MessageHead, scheme: string): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {
    ':method': buf.toString('latin1', h.methodStart, h.methodEnd),
    ':scheme': scheme,
    ':path': buf.toString('latin1', h.targetStart, h.targetEnd),
  };
  for (let i = 0; i < h.count; i++) {
    if (h.drop[i] === 1) continue;
    const ls = h.lineStart[i] as number;
    const name = buf.toString('latin1', ls, buf.indexOf(COLON, ls)).toLowerCase();
    const value = h.value(buf, i);
    if (name === 'host') out[':authority'] = value;
    if (NOT_HTTP2.has(name)) continue; // TE and what Connection names were dropped by the parser
    const prev = out[name];
    if (prev === undefined) out[name] = value;
    else if (Array.isArray(prev)) prev.push(value);
    else out[name] = [prev as string, value];
  }
  return out;
}

function statusLine(status: number): string {
  return `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
}

function fieldLines(headers: IncomingHttpHeaders): string {
  let out = '';
  for (const name in headers) {
    if (name.charCodeAt(0) === COLON || NOT_FROM_HTTP2.has(name)) continue;
    const v = headers[name];
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const one of v) out += `${name}: ${one}\r\n`;
    else out += `${name}: ${v}\r\n`;
  }
  return out;
}

function ignoreError(): void {}
