/**
 * The router: a listener's `routes:` or `virtualHosts:` compiled once per snapshot
 * (`buildRouteTable`), and one decision per request (`routeHttp1` from a raw HTTP/1 head,
 * `selectRoute` from any request view whose path is normalized). See types.ts for the contract.
 */
export type * from './types.js';
export { buildRouteTable, clustersByName } from './table.js';
export { selectRoute, REJECT_BAD_PATH, REJECT_ESCAPED_SLASH, REJECT_NO_ROUTE, REJECT_NO_VIRTUAL_HOST } from './select.js';
export { Http1RouteRequest, routeHttp1 } from './http1.js';
export { rewritePath, rewriteAuthority, redirectLocation } from './rewrite.js';
export { normalizeTarget, normalizeTargetString, absoluteFormAuthority, PATH_UNCHANGED, PATH_INVALID, PATH_ESCAPED_SLASH, type PathResult } from './normalize-path.js';
export { queryParam } from './matchers.js';
export { seededRandom } from './random.js';
