import type { ServerResponse } from 'node:http';

/** Answers with a whole body: its type, its length, and no caching. */
export function send(res: ServerResponse, status: number, type: 'text' | 'json', body: string): void {
  res.writeHead(status, {
    'content-type': type === 'json' ? 'application/json' : 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-cache',
  });
  res.end(body);
}
