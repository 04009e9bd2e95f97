/*
 * Memory helper of bench/product.sh: opens --count keep-alive connections to a proxy, sends
 * one `GET /` on each, reads the whole response, and keeps every connection open and idle
 * until SIGTERM/SIGINT (or --hold seconds). At most --concurrency connections are being set up
 * at a time, so the proxy's upstream pool stays small and the listen backlog never overflows.
 *   node dist/bench/idle-conns.js --port 19221 --count 10000 [--concurrency 200] [--hold 120]
 * Prints one JSON line once every connection is set up: {"ready":true,"open":N,"ok":N,"failed":N,"ms":T}.
 * Needs a file descriptor limit above --count (product.sh runs `ulimit -n 65536` first).
 */
import { connect, type Socket } from 'node:net';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string' },
    count: { type: 'string', default: '10000' },
    concurrency: { type: 'string', default: '200' },
    hold: { type: 'string', default: '120' },
  },
});
if (args.port === undefined) throw new Error('--port is required');
const port = Number(args.port);
const count = Number(args.count);
const concurrency = Number(args.concurrency);
const REQUEST = Buffer.from(`GET / HTTP/1.1\r\nHost: ${args.host}:${port}\r\nUser-Agent: proxyctl-bench-idle\r\n\r\n`);

const open = new Set<Socket>();
let ok = 0;
let failed = 0;

/** One connection, one request, resolved once a full response (head + Content-Length body, or a chunked end) arrived. */
function oneConnection(): Promise<void> {
  return new Promise((resolve) => {
    const s = connect({ host: args.host, port });
    let buf = '';
    let done = false;
    const finish = (good: boolean): void => {
      if (done) return;
      done = true;
      if (good) {
        ok++;
        open.add(s);
        s.on('close', () => open.delete(s));
      } else {
        failed++;
        s.destroy();
      }
      resolve();
    };
    s.setNoDelay(true);
    s.on('connect', () => s.write(REQUEST));
    s.on('data', (d: Buffer) => {
      if (done) return;
      buf += d.toString('latin1');
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.slice(0, end).toLowerCase();
      const body = buf.length - end - 4;
      const cl = /\r\ncontent-length:\s*(\d+)/.exec(head);
      if (!head.startsWith('http/1.1 200')) finish(false);
      else if (cl !== null ? body >= Number(cl[1]) : buf.endsWith('0\r\n\r\n')) finish(!/\r\nconnection:\s*close/.test(head));
    });
    s.on('error', () => finish(false));
    s.on('close', () => finish(false));
  });
}

const t0 = Date.now();
let started = 0;
async function lane(): Promise<void> {
  while (started < count) {
    started++;
    await oneConnection();
  }
}
await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
process.stdout.write(`${JSON.stringify({ ready: true, open: open.size, ok, failed, ms: Date.now() - t0 })}\n`);

function stop(): void {
  for (const s of open) s.destroy();
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
setTimeout(stop, Number(args.hold) * 1000);
