/**
 * The admin HTTP endpoint (node:http; not on the hot path). The paths are Envoy's; each group
 * lives in its own module (ops-routes, stats-routes, info-routes) and `/` lists them all with
 * their help line. A new path is one entry in ROUTES.
 *
 * GET routes answer GET and HEAD; POST routes change something and answer POST only; GET+POST
 * routes (`/logging`) read on GET and change on POST. Another method gets 405 with `allow`; an unknown path 404. Bad input gets a 4xx, never a crash.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from '../log.js';
import { INFO_ROUTES } from './info-routes.js';
import { LOGGING_ROUTE } from './logging.js';
import { OPS_ROUTES } from './ops-routes.js';
import { send, TEXT } from './respond.js';
import { STATS_ROUTES } from './stats-routes.js';
import type { AdminEndpoint, AdminFacts, AdminRequest, AdminRoute } from './types.js';

const INDEX: AdminRoute = { path: '/', method: 'GET', help: 'this list', handle: ({ res }) => send(res, 200, TEXT, indexText()) };

const ROUTES: ReadonlyMap<string, AdminRoute> = new Map([INDEX, ...OPS_ROUTES, ...STATS_ROUTES, ...INFO_ROUTES, LOGGING_ROUTE].map((r) => [r.path, r]));

/** The index never changes while the process runs: built on its first request. */
let indexBody: string | undefined;

/** `/`: one line a path, `METHOD /path  help`. */
function indexText(): string {
  indexBody ??= buildIndex();
  return indexBody;
}

function buildIndex(): string {
  const width = Math.max(...[...ROUTES.keys()].map((p) => p.length));
  return [...ROUTES.values()].map((r) => `${r.method.padEnd(8)} ${r.path.padEnd(width)}  ${r.help}\n`).join('');
}

const ALLOW: Readonly<Record<AdminRoute['method'], readonly string[]>> = { GET: ['GET', 'HEAD'], POST: ['POST'], 'GET+POST': ['GET', 'HEAD', 'POST'] };

export class AdminServer implements AdminEndpoint {
  readonly #server: Server;
  #closed = false;

  constructor(
    private readonly facts: AdminFacts,
    private readonly log: Logger,
  ) {
    this.#server = createServer(this.#onRequest);
    // A malformed request: answer 400 if the socket still can, never let it reach 'error'.
    this.#server.on('clientError', (_err: Error, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      else socket.destroy();
    });
    this.#server.on('error', (err: Error) => this.log.error('admin endpoint error', { error: err }));
  }

  listen(fd: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen({ fd }, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#server.close();
    this.#server.closeIdleConnections();
  }

  readonly #onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    // A request body is never read; drain it so keep-alive still works.
    req.resume();
    void this.#serve(req, res);
  };

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      // The base only serves to parse a path; the Host header is never trusted.
      const url = new URL(req.url ?? '/', 'http://admin.invalid');
      const route = ROUTES.get(url.pathname);
      if (route === undefined) send(res, 404, TEXT, 'not found\n');
      else if (!ALLOW[route.method].includes(req.method ?? '')) {
        res.setHeader('allow', ALLOW[route.method].join(', '));
        send(res, 405, TEXT, 'method not allowed\n');
      } else {
        const request: AdminRequest = { facts: this.facts, query: url.searchParams, req, res };
        await route.handle(request);
      }
      this.log.debug('admin request', { method: req.method, path: url.pathname, status: res.statusCode });
    } catch (err: unknown) {
      this.log.warn('admin request failed', { url: req.url, error: err });
      if (!res.headersSent) send(res, 500, TEXT, 'internal error\n');
      else res.destroy();
    }
  }
}
