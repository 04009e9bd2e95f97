/**
 * The pieces of the filter chain that are the same in both directions: a message on its way
 * through the filters, and one direction's state (the message held by a filter, the queue
 * behind it, and which filter's callback is running), and the callbacks object each filter
 * gets. See filter-chain.ts for the rules.
 */
import { FilterStatus } from './filter.js';
import type { DecoderCallbacks, EncoderCallbacks, HeaderMap, HttpFilter, RequestHeaders, ResponseHeaders, StreamInfo } from './filter.js';

export const enum Kind {
  Headers = 0,
  Data = 1,
  Trailers = 2,
}

/** One message on its way through the chain; `from` is the next filter to see it. */
export class Msg {
  constructor(
    readonly kind: Kind,
    readonly headers: HeaderMap | null,
    readonly data: Buffer | null,
    readonly end: boolean,
    public from: number,
  ) {}
}

export class Direction {
  /** The message a filter stopped (`held.from` is that filter), or null. */
  held: Msg | null = null;
  /** Messages that arrived while one was held, in order, seen by no filter yet. */
  queue: Msg[] = [];
  /** Data bytes in `queue`. */
  queuedBytes = 0;
  /** The filter whose callback is running in this direction, or -1. */
  calling = -1;
  /** That filter asked to continue from inside its callback. */
  continueAsked = false;

  get idle(): boolean {
    return this.held === null && this.queue.length === 0;
  }

  /** Bytes held inside the chain: the queue and the held message's data. */
  get bufferedBytes(): number {
    return this.queuedBytes + (this.held?.data?.length ?? 0);
  }

  /** Queues `m`; returns the queued data bytes after it. */
  enqueue(m: Msg): number {
    this.queue.push(m);
    this.queuedBytes += m.data?.length ?? 0;
    return this.queuedBytes;
  }

  dequeue(): Msg {
    const m = this.queue.shift() as Msg;
    this.queuedBytes -= m.data?.length ?? 0;
    return m;
  }

  clear(): void {
    this.held = null;
    this.queue = [];
    this.queuedBytes = 0;
  }
}

/** What a filter's callbacks drive: the chain, by the filter's index. */
export interface ChainControl {
  resumeDecode(index: number): void;
  resumeEncode(index: number): void;
  localReplyFrom(index: number, status: number, body: string, headers?: Readonly<Record<string, string>>, flag?: string): void;
}

/** One object per filter serves as both its decoder and encoder callbacks. */
export class FilterCallbacks implements DecoderCallbacks, EncoderCallbacks {
  constructor(
    private readonly chain: ChainControl,
    private readonly index: number,
    readonly streamInfo: StreamInfo,
  ) {}

  continueDecoding(): void {
    this.chain.resumeDecode(this.index);
  }

  continueEncoding(): void {
    this.chain.resumeEncode(this.index);
  }

  sendLocalReply(status: number, body: string, headers?: Readonly<Record<string, string>>, flag?: string): void {
    this.chain.localReplyFrom(this.index, status, body, headers, flag);
  }
}

export function decodeOne(f: HttpFilter, m: Msg, cb: DecoderCallbacks): FilterStatus {
  if (m.kind === Kind.Headers) return f.decodeHeaders === undefined ? FilterStatus.Continue : f.decodeHeaders(m.headers as RequestHeaders, m.end, cb);
  if (m.kind === Kind.Data) return f.decodeData === undefined ? FilterStatus.Continue : f.decodeData(m.data as Buffer, m.end, cb);
  return f.decodeTrailers === undefined ? FilterStatus.Continue : f.decodeTrailers(m.headers as HeaderMap, cb);
}

export function encodeOne(f: HttpFilter, m: Msg, cb: EncoderCallbacks): FilterStatus {
  if (m.kind === Kind.Headers) return f.encodeHeaders === undefined ? FilterStatus.Continue : f.encodeHeaders(m.headers as ResponseHeaders, m.end, cb);
  if (m.kind === Kind.Data) return f.encodeData === undefined ? FilterStatus.Continue : f.encodeData(m.data as Buffer, m.end, cb);
  return f.encodeTrailers === undefined ? FilterStatus.Continue : f.encodeTrailers(m.headers as HeaderMap, cb);
}

export function addResponseFlag(info: StreamInfo, flag: string): void {
  info.responseFlags = info.responseFlags === '' ? flag : `${info.responseFlags},${flag}`;
}
