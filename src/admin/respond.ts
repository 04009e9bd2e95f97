/** How every admin route answers: one body, its length, never cached. */
import type { ServerResponse } from 'node:http';

export const TEXT = 'text/plain; charset=utf-8';
const JSON_TYPE = 'application/json';

export function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-cache' });
  res.end(body);
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, JSON_TYPE, `${JSON.stringify(value)}\n`);
}

/** The regular expression of `?filter=`, undefined without one, or null (400 sent) when it does not compile. */
export function filterParam(query: URLSearchParams, res: ServerResponse): RegExp | undefined | null {
  const pattern = query.get('filter');
  if (pattern === null) return undefined;
  try {
    return new RegExp(pattern);
  } catch {
    send(res, 400, TEXT, 'filter is not a valid regular expression\n');
    return null;
  }
}
