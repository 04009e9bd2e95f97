/**
 * The admin HTTP endpoint (node:http; not on the hot path).
 *
 *   GET /ready        200 "LIVE\n" while serving; 503 "DRAINING\n" once a drain began
 *   GET /stats        `name: value` lines (as `proxyctl stats`); ?filter=REGEX; ?format=json
 *                     gives the JSON of `proxyctl stats --json`
 *   GET /server_info  {version, epoch, pid, state, uptimeMs, workers, configHash, hotRestartCompatibility}
 *   GET /clusters     each cluster and host, one fact a line (`app::127.0.0.1:9001::weight::3`,
 *                     clusters-text.ts); ?format=json gives {clusters: ClusterView[]}
 *   GET|POST /logging  the epoch's log level; POST ?level=debug sets it (logging.ts)
 *
 * Other paths 404; other methods on these paths 405 (with `allow`). Bad input gets a 4xx, never a crash.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { formatSnapshot } from '../cli/render-stats.js';
import type { Logger } from '../log.js';
import { clustersText } from './clusters-text.js';
import { LOGGING_METHODS, logging } from './logging.js';
import { send } from './send.js';
import { readSnapshot, snapshotToJson } from '../shm/index.js';
import { HOT_RESTART_COMPATIBILITY } from '../uds-rpc/index.js';
import type { AdminEndpoint, AdminFacts } from './types.js';

/** package.json's version, read once (dist/src/admin/ → the package root). */
const VERSION = ((): string => {
  try {
    const pkg: unknown = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'));
    const version = typeof pkg === 'object' && pkg !== null ? (pkg as Record<string, unknown>).version : undefined;
    return typeof version === 'string' ? version : 'unknown';
  } catch {
    return 'unknown';
  }
})();

type Route = (facts: AdminFacts, query: URLSearchParams, res: ServerResponse, method: string) => void;
/** A route that takes more than GET and HEAD names its methods. */
interface RouteWithMethods {
  readonly methods: readonly string[];
  readonly handle: Route;
}

const READ_METHODS: readonly string[] = ['GET', 'HEAD'];

function ready(facts: AdminFacts, _query: URLSearchParams, res: ServerResponse): void {
  if (facts.draining()) send(res, 503, 'text', 'DRAINING\n');
  else send(res, 200, 'text', 'LIVE\n');
}

function stats(facts: AdminFacts, query: URLSearchParams, res: ServerResponse): void {
  const pattern = query.get('filter');
  let filter: RegExp | undefined;
  if (pattern !== null) {
    try {
      filter = new RegExp(pattern);
    } catch {
      send(res, 400, 'text', 'filter is not a valid regular expression\n');
      return;
    }
  }
  const snapshot = readSnapshot(facts.stats, filter);
  if (query.get('format') === 'json') send(res, 200, 'json', JSON.stringify(snapshotToJson(snapshot)) + '\n');
  else {
    const text = formatSnapshot(snapshot);
    send(res, 200, 'text', text === '' ? '' : text + '\n');
  }
}

function serverInfo(facts: AdminFacts, _query: URLSearchParams, res: ServerResponse): void {
  const info = {
    version: VERSION,
    epoch: facts.epoch,
    pid: process.pid,
    state: facts.draining() ? 'draining' : 'active',
    uptimeMs: Date.now() - facts.startedAt,
    workers: facts.workers,
    configHash: facts.configHash,
    hotRestartCompatibility: HOT_RESTART_COMPATIBILITY,
  };
  send(res, 200, 'json', JSON.stringify(info) + '\n');
}

function clusters(facts: AdminFacts, query: URLSearchParams, res: ServerResponse): void {
  const views = facts.clusters.views();
  if (query.get('format') === 'json') send(res, 200, 'json', JSON.stringify({ clusters: views }) + '\n');
  else send(res, 200, 'text', clustersText(views));
}

const ROUTES: ReadonlyMap<string, Route | RouteWithMethods> = new Map<string, Route | RouteWithMethods>([
  ['/ready', ready],
  ['/stats', stats],
  ['/server_info', serverInfo],
  ['/clusters', clusters],
  ['/logging', { methods: LOGGING_METHODS, handle: logging }],
]);

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
    try {
      // The base only serves to parse a path; the Host header is never trusted.
      const url = new URL(req.url ?? '/', 'http://admin.invalid');
      const route = ROUTES.get(url.pathname);
      const methods = route === undefined || typeof route === 'function' ? READ_METHODS : route.methods;
      const method = req.method ?? '';
      if (route === undefined) send(res, 404, 'text', 'not found\n');
      else if (!methods.includes(method)) {
        res.setHeader('allow', methods.join(', '));
        send(res, 405, 'text', 'method not allowed\n');
      } else (typeof route === 'function' ? route : route.handle)(this.facts, url.searchParams, res, method);
      this.log.debug('admin request', { method, path: url.pathname, status: res.statusCode });
    } catch (err: unknown) {
      this.log.warn('admin request failed', { url: req.url, error: err });
      if (!res.headersSent) send(res, 500, 'text', 'internal error\n');
      else res.destroy();
    }
    // A request body is never read; drain it so keep-alive still works.
    req.resume();
  };
}
