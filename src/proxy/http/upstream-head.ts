/**
 * The request head an HTTP/1 request is forwarded with, built from the client's bytes: the
 * target normalized or rewritten (router/), `Host` rewritten, hop-by-hop fields dropped, the
 * upgrade kept when it is going ahead, and the forwarded fields (forwarded.ts) added.
 */
import type { Http1RouteRequest, RouteInfo } from '../router/index.js';
import { rewriteAuthority, rewritePath } from '../router/index.js';
import { forwardedLines } from './forwarded.js';
import type { MessageHead } from './head.js';
import type { RequestRecord } from './request-record.js';
import { rewriteHead } from './rewrite.js';

/** Call in the synchronous turn that parsed `h` (its line offsets are the thread's). */
export function upstreamHead(buf: Buffer, h: MessageHead, route: RouteInfo, rq: Http1RouteRequest, bodyEnd: number, upgrading: boolean, clientIp: string, scheme: string, rec: RequestRecord | null): Buffer {
  let target: Buffer | null = null;
  let host = '';
  if (route.rewrites) {
    target = Buffer.from(rewritePath(route, rq.path), 'latin1');
    if (route.hostRewrite !== null) {
      if (h.hostLine >= 0) h.dropLine(h.hostLine);
      host = `host: ${rewriteAuthority(route, rq.authority)}\r\n`;
    }
  } else if (rq.normalizedPath !== null) target = Buffer.from(rq.normalizedPath, 'latin1');
  let conn = '';
  if (upgrading) {
    h.keepLine(h.upgradeLine);
    conn = 'connection: upgrade\r\n';
  } else if (h.version === 10) conn = 'connection: keep-alive\r\n'; // upstream is always keep-alive
  let priorXff = '';
  const xff = h.xffLines;
  if (xff !== null) {
    for (const i of xff) {
      priorXff = priorXff === '' ? h.value(buf, i) : `${priorXff}, ${h.value(buf, i)}`;
      h.dropLine(i);
    }
  }
  if (h.xfpLine >= 0) h.dropLine(h.xfpLine);
  const id = h.hasRequestId ? null : rec === null ? undefined : rec.streamInfo.requestId;
  if (rec !== null && rec.request !== null) {
    // The log shows the request as the upstream got it.
    rec.request.set('x-forwarded-for', priorXff === '' ? clientIp : `${priorXff}, ${clientIp}`);
    if (id !== null && id !== undefined) rec.request.set('x-request-id', id);
  }
  const extra = conn + host + forwardedLines(priorXff, clientIp, scheme, id);
  return rewriteHead(buf, h, Buffer.from(extra, 'latin1'), bodyEnd, target);
}
