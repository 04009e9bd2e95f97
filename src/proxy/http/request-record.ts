/**
 * One request's access-log record, filled in by a codec as the exchange goes and handed to
 * the listener's `AccessLog` at its end. Made only on listeners with an access log; header
 * maps only when a format reads them.
 */
import type { Socket } from 'node:net';
import type { AccessLog, AccessLogEntry } from '../access-log/types.js';
import type { RequestHeaders, ResponseHeaders } from './filter.js';
import { ExchangeInfo } from './stream-info.js';

export class RequestRecord implements AccessLogEntry {
  readonly streamInfo: ExchangeInfo;
  request: RequestHeaders | null = null;
  response: ResponseHeaders | null = null;
  status = 0;
  /** Body bytes read from the client (heads not counted, as Envoy's BYTES_RECEIVED). */
  bytesReceived = 0;
  /** Body bytes written to the client. */
  bytesSent = 0;
  durationMs = 0;
  private logged = false;

  constructor(
    private readonly log: AccessLog,
    info: ExchangeInfo,
    readonly connectionId: number,
  ) {
    this.streamInfo = info;
  }

  static start(log: AccessLog, listenerName: string, protocol: string, socket: Socket, requestId: string | undefined, connectionId: number): RequestRecord {
    return new RequestRecord(log, new ExchangeInfo(listenerName, protocol, socket, requestId), connectionId);
  }

  get wantsRequest(): boolean {
    return this.log.readsRequestHeaders;
  }

  get wantsResponse(): boolean {
    return this.log.readsResponseHeaders;
  }

  /** Writes the line once; `flags` are added to the stream's response flags. */
  finish(status: number, flags: string): void {
    if (this.logged) return;
    this.logged = true;
    this.status = status;
    if (flags !== '') this.streamInfo.addFlag(flags);
    this.durationMs = performance.now() - this.streamInfo.startMonotonic;
    this.log.log(this);
  }
}
