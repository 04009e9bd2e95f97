/*
 * The Node peer of bench/product.sh: a minimal reverse proxy on node:http and an undici Pool
 * (64 keep-alive connections to the upstream), with no framework. It is the best a plain Node
 * proxy does on this machine, so proxyctl's ratio to it says what proxyctl's own data plane
 * buys over "http.createServer + undici".
 *   node dist/bench/undici-peer.js --port 19217 --upstream http://127.0.0.1:19201
 * Hop-by-hop headers (RFC 9110 section 7.6.1, plus the names listed in Connection) are dropped
 * in both directions; node:http then writes its own Connection header, so a client that sends
 * `Connection: close` gets `Connection: close` back and the socket is closed.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: '19217' },
    host: { type: 'string', default: '127.0.0.1' },
    upstream: { type: 'string', default: 'http://127.0.0.1:19201' },
    connections: { type: 'string', default: '64' },
  },
});

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'proxy-authorization', 'proxy-authenticate']);

/** A copy of `h` without hop-by-hop headers, nor any header the Connection header names. */
function endToEnd(h: IncomingHttpHeaders | Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const named = new Set<string>();
  const conn = h.connection;
  for (const v of Array.isArray(conn) ? conn : conn === undefined ? [] : [conn]) {
    for (const t of v.split(',')) named.add(t.trim().toLowerCase());
  }
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined || HOP_BY_HOP.has(k) || named.has(k)) continue;
    out[k] = v;
  }
  return out;
}

const pool = new Pool(args.upstream, { connections: Number(args.connections), pipelining: 1, keepAliveTimeout: 60_000 });

const server = createServer((req, res) => {
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  pool.stream<ServerResponse>(
    { path: req.url ?? '/', method: req.method as 'GET', headers: endToEnd(req.headers), body: hasBody ? req : null, opaque: res },
    ({ statusCode, headers, opaque }) => {
      const r = opaque as ServerResponse;
      r.writeHead(statusCode, endToEnd(headers));
      return r;
    },
    (err) => {
      if (err === null) return;
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end();
    },
  );
});
server.keepAliveTimeout = 65_000;
server.listen({ port: Number(args.port), host: args.host, backlog: 4096 }, () => {
  process.stdout.write(`undici peer on ${args.host}:${args.port} -> ${args.upstream} (${args.connections} connections)\n`);
});

function stop(): void {
  server.close();
  setTimeout(() => process.exit(0), 1000).unref();
  void pool.close().finally(() => process.exit(0));
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
