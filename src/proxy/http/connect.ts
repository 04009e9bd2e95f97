/**
 * CONNECT (RFC 9110 9.3.6), for listeners that opt in with `allowConnect`. A CONNECT request
 * is routed as a request for `/` on the virtual host its target (`host:port`) names, so domains
 * pick the cluster and a route's path rules do not apply. A cluster route forwards the CONNECT
 * as it came to an upstream, as Envoy does by default, and the upstream's 2xx opens the tunnel;
 * its other answers are relayed as responses. Without the opt-in, or when the route is not a
 * cluster route, the client gets 403. Tunnels take no retries, no rewrites and no HTTP filters
 * (the config refuses `allowConnect` beside `httpFilters`).
 */
import type { WorkerRouteTable } from '../connection-types.js';
import type { Http1RouteRequest, RouteRequest } from '../router/index.js';
import { selectRoute } from '../router/index.js';
import type { DirectResponseSnapshot } from '../types.js';
import type { ClusterRuntime } from '../upstream/cluster.js';
import type { MessageHead } from './head.js';
import { localReply } from './local-reply.js';

/** CONNECT on a listener without `allowConnect`, or to a target no cluster route takes. */
export const REPLY_CONNECT_REFUSED = localReply(403);

/** Whether the parsed request `h` in buf is a CONNECT (a length compare first: most are GET/POST). */
export function isConnect(buf: Buffer, h: MessageHead): boolean {
  return h.methodEnd - h.methodStart === 7 && buf.toString('latin1', h.methodStart, h.methodEnd) === 'CONNECT';
}

/** The router's view of an HTTP/1 CONNECT: its target is the authority, the path is `/`. */
class ConnectRouteRequest implements RouteRequest {
  readonly method = 'CONNECT';
  readonly path = '/';

  constructor(
    readonly authority: string,
    private readonly fields: Http1RouteRequest,
  ) {}

  get scheme(): 'http' | 'https' {
    return this.fields.scheme;
  }

  header(name: string): string | undefined {
    return this.fields.header(name);
  }

  query(): undefined {
    return undefined;
  }
}

export type ConnectVerdict = { readonly cluster: ClusterRuntime; readonly reply: null } | { readonly cluster: null; readonly reply: DirectResponseSnapshot };

/** The verdict without the listener's opt-in. */
export const CONNECT_REFUSED: ConnectVerdict = { cluster: null, reply: REPLY_CONNECT_REFUSED };

/** The router's view of the HTTP/1 CONNECT `h` in buf; `rq` is the connection's route view, pointed at this head here. */
export function http1ConnectView(rq: Http1RouteRequest, buf: Buffer, h: MessageHead): RouteRequest {
  rq.reset(buf, h);
  return new ConnectRouteRequest(buf.toString('latin1', h.targetStart, h.targetEnd), rq);
}

/** Where a CONNECT goes on a listener that allows it; `view` reads the request with `/` as its path. */
export function routeConnect(table: WorkerRouteTable, view: RouteRequest): ConnectVerdict {
  const d = selectRoute(table, view);
  return d.kind === 'cluster' ? { cluster: d.cluster, reply: null } : CONNECT_REFUSED;
}
