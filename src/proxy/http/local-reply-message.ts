/**
 * The response of a filter-chain local reply, as a header map and a body: `content-type:
 * text/plain` and `content-length`, then the filter's own headers (which may override them).
 * A status that has no content (1xx, 204, 304; RFC 9110 6.4.1) gets neither field and no
 * body; a HEAD request gets the fields and no body.
 */
import { ResponseHeaderMap } from './header-map.js';

export interface LocalReplyMessage {
  readonly headers: ResponseHeaderMap;
  /** Null when the headers end the stream. */
  readonly body: Buffer | null;
}

export function buildLocalReply(status: number, body: string, extra: Readonly<Record<string, string>> | undefined, isHead: boolean): LocalReplyMessage {
  const headers = new ResponseHeaderMap(status);
  const noContent = status < 200 || status === 204 || status === 304;
  let bytes: Buffer | null = null;
  if (!noContent) {
    bytes = Buffer.from(body, 'utf8');
    headers.set('content-type', 'text/plain');
    headers.set('content-length', String(bytes.length));
  }
  if (extra !== undefined) for (const name of Object.keys(extra)) headers.set(name, extra[name] as string);
  return { headers, body: bytes === null || bytes.length === 0 || isHead ? null : bytes };
}
