/**
 * Runs one request's filters (the contract is in filter.ts, the seams in filter-chain-types.ts).
 *
 * Each direction is a stream of messages (headers, data..., trailers). A message goes through
 * the filters in order (decode 0 → n-1, encode n-1 → 0) until one returns `Stop`; the chain
 * then holds it at that filter. While a message is held, every later message of the same
 * direction waits in a queue at the chain's entry, seen by no filter, so each filter sees the
 * messages in order. `continueDecoding` / `continueEncoding` from the holding filter moves the
 * held message on from the next filter, then runs the queued ones from the first.
 *
 * The queue is bounded: its data bytes may not exceed `bufferLimitBytes` (default 1 MiB). Past
 * that the request side answers 413 and the response side 500 (if the response head has not
 * gone out; otherwise the stream is reset). Request bytes held are in `bufferedDecodeBytes`
 * so a codec can stop reading first.
 *
 * A local reply from filter k closes the request side (later decoders and the terminal never
 * see it; a terminal already reached is aborted) and its response starts at encoder k-1. A
 * filter that throws counts `filterError` and becomes a 500 local reply the same way (from an
 * encoder: a 500 straight to the sink); once the response head has gone out the only answer
 * is `sink.reset()`. `onDestroy` runs once per filter, when the response has ended downstream
 * or on `destroy()` / reset, deferred until the outermost call into the chain returns so that
 * no filter is destroyed while one of its callbacks runs.
 */
import { FilterStatus } from './filter.js';
import type { HeaderMap, HttpFilter, RequestHeaders, ResponseHeaders, StreamInfo } from './filter.js';
import { Direction, FilterCallbacks, Kind, Msg, addResponseFlag, decodeOne, encodeOne, type ChainControl } from './filter-chain-direction.js';
import type { ChainStats, ChainTerminal, DownstreamSink, FilterChainApi } from './filter-chain-types.js';
import { buildLocalReply } from './local-reply-message.js';

export const DEFAULT_BUFFER_LIMIT_BYTES = 1024 * 1024;

export class FilterChain implements FilterChainApi, ChainControl {
  readonly #filters: readonly HttpFilter[];
  readonly #cbs: FilterCallbacks[];
  readonly #terminal: ChainTerminal;
  readonly #sink: DownstreamSink;
  readonly #stats: ChainStats;
  readonly #limit: number;
  readonly streamInfo: StreamInfo;

  readonly #dec = new Direction();
  #requestEndSeen = false;
  /** Closed by a local reply or a reset: every decode input is dropped from then on. */
  #decClosed = false;
  #terminalStarted = false;
  #terminalDone = false;
  #isHead = false;

  readonly #enc = new Direction();
  /** Bumped whenever the response in progress is thrown away, so a run in progress stops. */
  #encGen = 0;
  #localReply = false;
  #responseEndSeen = false;
  #responseStarted = false;
  #responseEnded = false;

  #destroyed = false;
  #onDestroyRan = false;
  #depth = 0;

  constructor(filters: readonly HttpFilter[], streamInfo: StreamInfo, terminal: ChainTerminal, sink: DownstreamSink, stats: ChainStats, bufferLimitBytes = DEFAULT_BUFFER_LIMIT_BYTES) {
    this.#filters = filters;
    this.streamInfo = streamInfo;
    this.#terminal = terminal;
    this.#sink = sink;
    this.#stats = stats;
    this.#limit = bufferLimitBytes;
    this.#cbs = filters.map((_, i) => new FilterCallbacks(this, i, streamInfo));
  }

  get destroyed(): boolean {
    return this.#destroyed;
  }

  get bufferedDecodeBytes(): number {
    return this.#dec.bufferedBytes;
  }

  // ---- request side -------------------------------------------------------------------------

  decodeHeaders(headers: RequestHeaders, endStream: boolean): void {
    if (!this.#acceptsDecode()) return;
    this.#isHead = headers.method === 'HEAD';
    this.#decodeEntry(new Msg(Kind.Headers, headers, null, endStream, 0));
  }

  decodeData(data: Buffer, endStream: boolean): void {
    if (this.#acceptsDecode()) this.#decodeEntry(new Msg(Kind.Data, null, data, endStream, 0));
  }

  decodeTrailers(trailers: HeaderMap): void {
    if (this.#acceptsDecode()) this.#decodeEntry(new Msg(Kind.Trailers, trailers, null, true, 0));
  }

  #acceptsDecode(): boolean {
    return !this.#destroyed && !this.#decClosed && !this.#requestEndSeen;
  }

  #decodeEntry(m: Msg): void {
    if (m.end) this.#requestEndSeen = true;
    this.#depth++;
    try {
      if (this.#dec.idle) this.#runDecode(m);
      else this.#queueDecode(m);
    } finally {
      this.#leave();
    }
  }

  #queueDecode(m: Msg): void {
    if (this.#dec.enqueue(m) <= this.#limit) return;
    this.#stats.bufferOverflow.inc();
    const at = this.#dec.held?.from ?? this.#filters.length;
    this.#startLocalReply(at, 413, 'request body too large\n', undefined, '');
  }

  #runDecode(m: Msg): void {
    const filters = this.#filters;
    for (let i = m.from; i < filters.length; i++) {
      let status: FilterStatus;
      this.#dec.calling = i;
      this.#dec.continueAsked = false;
      try {
        status = decodeOne(filters[i] as HttpFilter, m, this.#cbs[i] as FilterCallbacks);
      } catch {
        this.#dec.calling = -1;
        this.#filterFailed(i, true);
        return;
      }
      this.#dec.calling = -1;
      if (this.#destroyed || this.#decClosed) return;
      if (status === FilterStatus.Stop && !this.#dec.continueAsked) {
        m.from = i;
        this.#dec.held = m;
        return;
      }
    }
    this.#toTerminal(m);
  }

  #toTerminal(m: Msg): void {
    if (m.kind === Kind.Headers) {
      this.#terminalStarted = true;
      this.#terminal.decodeHeaders(m.headers as RequestHeaders, m.end);
    } else if (m.kind === Kind.Data) this.#terminal.decodeData(m.data as Buffer, m.end);
    else this.#terminal.decodeTrailers(m.headers as HeaderMap);
  }

  /** @internal `continueDecoding` of filter `index`. */
  resumeDecode(index: number): void {
    if (this.#destroyed || this.#decClosed) return;
    if (this.#dec.calling === index) {
      this.#dec.continueAsked = true;
      return;
    }
    const held = this.#dec.held;
    if (held === null || held.from !== index) return;
    this.#depth++;
    try {
      this.#dec.held = null;
      held.from = index + 1;
      this.#runDecode(held);
      while (this.#dec.held === null && this.#dec.queue.length > 0 && !this.#destroyed && !this.#decClosed) this.#runDecode(this.#dec.dequeue());
    } finally {
      this.#leave();
    }
  }

  #closeDecode(): void {
    this.#decClosed = true;
    this.#dec.clear();
  }

  #abortTerminal(): void {
    if (!this.#terminalStarted || this.#terminalDone) return;
    this.#terminalDone = true;
    this.#terminal.abort();
  }

  // ---- response side ------------------------------------------------------------------------

  encodeHeaders(headers: ResponseHeaders, endStream: boolean): void {
    if (this.#acceptsEncode()) this.#encodeEntry(new Msg(Kind.Headers, headers, null, endStream, this.#filters.length - 1));
  }

  encodeData(data: Buffer, endStream: boolean): void {
    if (this.#acceptsEncode()) this.#encodeEntry(new Msg(Kind.Data, null, data, endStream, this.#filters.length - 1));
  }

  encodeTrailers(trailers: HeaderMap): void {
    if (this.#acceptsEncode()) this.#encodeEntry(new Msg(Kind.Trailers, trailers, null, true, this.#filters.length - 1));
  }

  #acceptsEncode(): boolean {
    return !this.#destroyed && !this.#localReply && !this.#responseEndSeen;
  }

  #encodeEntry(m: Msg): void {
    if (m.end) {
      this.#responseEndSeen = true;
      this.#terminalDone = true;
    }
    this.#depth++;
    try {
      this.#pushEncode(m);
    } finally {
      this.#leave();
    }
  }

  #pushEncode(m: Msg): void {
    if (this.#enc.idle) {
      this.#runEncode(m);
      return;
    }
    if (this.#enc.enqueue(m) <= this.#limit) return;
    this.#stats.bufferOverflow.inc();
    this.#directReply(500);
  }

  #runEncode(m: Msg): void {
    const gen = this.#encGen;
    for (let i = m.from; i >= 0; i--) {
      let status: FilterStatus;
      this.#enc.calling = i;
      this.#enc.continueAsked = false;
      try {
        status = encodeOne(this.#filters[i] as HttpFilter, m, this.#cbs[i] as FilterCallbacks);
      } catch {
        this.#enc.calling = -1;
        this.#filterFailed(i, false);
        return;
      }
      this.#enc.calling = -1;
      if (this.#destroyed || gen !== this.#encGen) return;
      if (status === FilterStatus.Stop && !this.#enc.continueAsked) {
        m.from = i;
        this.#enc.held = m;
        return;
      }
    }
    this.#toSink(m);
  }

  #toSink(m: Msg): void {
    if (m.kind === Kind.Headers) {
      this.#responseStarted = true;
      this.#sink.encodeHeaders(m.headers as ResponseHeaders, m.end);
    } else if (m.kind === Kind.Data) this.#sink.encodeData(m.data as Buffer, m.end);
    else this.#sink.encodeTrailers(m.headers as HeaderMap);
    if (m.end) {
      this.#responseEnded = true;
      this.#markDestroyed();
    }
  }

  /** @internal `continueEncoding` of filter `index`. */
  resumeEncode(index: number): void {
    if (this.#destroyed) return;
    if (this.#enc.calling === index) {
      this.#enc.continueAsked = true;
      return;
    }
    const held = this.#enc.held;
    if (held === null || held.from !== index) return;
    this.#depth++;
    try {
      const gen = this.#encGen;
      this.#enc.held = null;
      held.from = index - 1;
      this.#runEncode(held);
      while (this.#enc.held === null && this.#enc.queue.length > 0 && !this.#destroyed && gen === this.#encGen) this.#runEncode(this.#enc.dequeue());
    } finally {
      this.#leave();
    }
  }

  #dropResponse(): void {
    this.#encGen++;
    this.#enc.clear();
  }

  // ---- local replies, failures, the end -----------------------------------------------------

  sendLocalReply(status: number, body: string, headers?: Readonly<Record<string, string>>, flag?: string): void {
    this.localReplyFrom(this.#filters.length, status, body, headers, flag);
  }

  /** @internal A local reply whose response starts at encoder `index - 1`. */
  localReplyFrom(index: number, status: number, body: string, headers?: Readonly<Record<string, string>>, flag?: string): void {
    if (this.#destroyed || this.#localReply) return;
    this.#depth++;
    try {
      this.#startLocalReply(index, status, body, headers, flag ?? '');
    } finally {
      this.#leave();
    }
  }

  #startLocalReply(index: number, status: number, body: string, headers: Readonly<Record<string, string>> | undefined, flag: string): void {
    if (flag !== '') addResponseFlag(this.streamInfo, flag);
    this.#closeDecode();
    // The connection manager's own replies come from the terminal side: it needs no abort.
    if (index < this.#filters.length) this.#abortTerminal();
    if (this.#responseStarted) {
      this.#reset();
      return;
    }
    this.#dropResponse();
    this.#localReply = true;
    const reply = buildLocalReply(status, body, headers, this.#isHead);
    this.#pushEncode(new Msg(Kind.Headers, reply.headers, null, reply.body === null, index - 1));
    if (reply.body !== null && !this.#destroyed && this.#localReply) this.#pushEncode(new Msg(Kind.Data, null, reply.body, true, index - 1));
  }

  /** A 500 (or 413...) that skips every encoder: the encode path itself is what failed. */
  #directReply(status: number): void {
    this.#closeDecode();
    this.#abortTerminal();
    if (this.#responseStarted) {
      this.#reset();
      return;
    }
    this.#dropResponse();
    this.#localReply = true;
    const reply = buildLocalReply(status, `${status}\n`, undefined, this.#isHead);
    this.#toSink(new Msg(Kind.Headers, reply.headers, null, reply.body === null, -1));
    if (reply.body !== null && !this.#destroyed) this.#toSink(new Msg(Kind.Data, null, reply.body, true, -1));
  }

  #filterFailed(index: number, decoding: boolean): void {
    this.#stats.filterError.inc();
    if (this.#responseStarted) this.#reset();
    else if (decoding && !this.#localReply) this.#startLocalReply(index, 500, 'internal error in an http filter\n', undefined, '');
    else this.#directReply(500);
  }

  #reset(): void {
    this.#closeDecode();
    this.#abortTerminal();
    this.#dropResponse();
    if (!this.#responseEnded) this.#sink.reset();
    this.#markDestroyed();
  }

  destroy(): void {
    if (this.#destroyed) return;
    if (!this.#responseEnded) this.#abortTerminal();
    this.#markDestroyed();
    if (this.#depth === 0) this.#runOnDestroy();
  }

  #markDestroyed(): void {
    this.#destroyed = true;
    this.#dec.clear();
    this.#enc.clear();
  }

  #leave(): void {
    this.#depth--;
    if (this.#depth === 0 && this.#destroyed) this.#runOnDestroy();
  }

  #runOnDestroy(): void {
    if (this.#onDestroyRan) return;
    this.#onDestroyRan = true;
    for (const f of this.#filters) {
      try {
        f.onDestroy?.();
      } catch {
        this.#stats.filterError.inc();
      }
    }
  }
}
