/*
 * The memory floor of a Node proxy: a bare `net` server that answers every read with one
 * fixed HTTP response and keeps the socket. Held open by bench/idle-conns.ts, it shows what one
 * idle `net.Socket` costs before any proxy logic (BENCHMARKS.md, "What bounds the targets").
 *   node dist/bench/bare-net-server.js --port 19777 --count 10000 &
 *   node dist/bench/idle-conns.js --port 19777 --count 10000 --hold 5
 * Prints the RSS before and once --count connections are open, then exits.
 */
import { createServer } from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { port: { type: 'string', default: '19777' }, count: { type: 'string', default: '10000' } } });
const count = Number(values.count);
const RESPONSE = Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nhello\n');
let open = 0;
const server = createServer((s) => {
  open++;
  s.on('data', () => s.write(RESPONSE));
  s.on('error', () => {});
  s.on('close', () => open--);
});
server.listen(Number(values.port), '127.0.0.1', () => {
  const idle = process.memoryUsage().rss;
  const timer = setInterval(() => {
    if (open < count) return;
    clearInterval(timer);
    const rss = process.memoryUsage().rss;
    console.log(JSON.stringify({ rssIdle: idle, rss, connections: open, bytesPerConnection: Math.round((rss - idle) / open) }));
    process.exit(0);
  }, 500);
});
