/*
 * The Node peer of bench/product.sh and bench/h2.sh: a minimal reverse proxy on node:http (or,
 * with --h2c, node:http2 with prior knowledge) and an undici Pool (64 keep-alive HTTP/1.1
 * connections to the upstream), with no framework. It is the best a plain Node proxy does on
 * this machine, so proxyctl's ratio to it says what proxyctl's own data plane buys over
 * "http.createServer (or http2.createServer) + undici".
 *   node dist/bench/undici-peer.js --port 19217 --upstream http://127.0.0.1:19201 [--h2c]
 * Hop-by-hop headers (RFC 9110 section 7.6.1, plus the names listed in Connection) are dropped
 * in both directions; node:http then writes its own Connection header, so a client that sends
 * `Connection: close` gets `Connection: close` back and the socket is closed. HTTP/2 pseudo-headers
 * (`:method`, `:path`, ...) are not forwarded as fields.
 *
 * The HTTP/2 side uses the core 'stream' API with `pool.request` and `pipeline`, not the
 * compatibility API with `pool.stream`: when a client goes away mid-response (h2load closes
 * its streams at the end of a run), undici does not see the compatibility response destroyed,
 * keeps its connection busy forever, and after 64 of them the peer stops answering.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import { createServer as createH2Server, type IncomingHttpHeaders as H2Headers, type ServerHttp2Stream } from 'node:http2';
import { pipeline } from 'node:stream';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: '19217' },
    host: { type: 'string', default: '127.0.0.1' },
    upstream: { type: 'string', default: 'http://127.0.0.1:19201' },
    connections: { type: 'string', default: '64' },
    h2c: { type: 'boolean', default: false },
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
    if (v === undefined || HOP_BY_HOP.has(k) || named.has(k) || k.charCodeAt(0) === 0x3a) continue;
    out[k] = v;
  }
  return out;
}

const pool = new Pool(args.upstream, { connections: Number(args.connections), pipelining: 1, keepAliveTimeout: 60_000 });

const h1 = (): ReturnType<typeof createServer> => createServer((req, res) => {
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

function onStream(stream: ServerHttp2Stream, headers: H2Headers): void {
  const method = headers[':method'] ?? 'GET';
  const hasBody = method !== 'GET' && method !== 'HEAD';
  pool
    .request({ path: headers[':path'] ?? '/', method: method as 'GET', headers: endToEnd(headers), body: hasBody ? stream : null })
    .then(
      ({ statusCode, headers: h, body }) => {
        if (stream.destroyed) return void body.on('error', ignore).destroy();
        stream.respond({ ':status': statusCode, ...endToEnd(h) });
        pipeline(body, stream, ignore);
      },
      () => {
        if (!stream.destroyed && !stream.headersSent) stream.respond({ ':status': 502 }, { endStream: true });
      },
    );
}

function ignore(): void {}

const server = args.h2c ? createH2Server().on('stream', onStream) : h1();
if (!args.h2c) (server as ReturnType<typeof createServer>).keepAliveTimeout = 65_000;
server.listen({ port: Number(args.port), host: args.host, backlog: 4096 }, () => {
  process.stdout.write(`undici peer (${args.h2c ? 'h2c' : 'http/1.1'}) on ${args.host}:${args.port} -> ${args.upstream} (${args.connections} connections)\n`);
});

function stop(): void {
  server.close();
  setTimeout(() => process.exit(0), 1000).unref();
  void pool.close().finally(() => process.exit(0));
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
