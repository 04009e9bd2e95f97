/**
 * Warming a standby worker's data plane before a reload takes it. A fresh worker runs its hot
 * path in V8's interpreter until the code is hot enough to be optimized: measured on the
 * 2-core dev VM, the first second after a reload served 20-24k req/s against 30-32k once warm
 * (wrk -c50 keep-alive, one worker), with or without a standby being spawned meanwhile. So a
 * standby worker sends a few thousand requests through a throwaway plane of its own, on
 * loopback, before it says it is warm: HTTP keep-alive, connection per request, a direct
 * response and a TCP proxy, to an upstream in the same thread.
 *
 * Nothing of it is shared: its stats go to a store in this thread's memory (the shared region
 * never sees `warmup` names), and its sockets listen on ephemeral loopback ports. It is
 * best-effort: the standby says it is warm before this starts, and a reload that takes the
 * standby meanwhile stops it (`stop`), so a reload never waits for it. Waiting made idle
 * reloads one second apart take 407 ms (median) instead of 9: booting and warming took longer
 * than the second.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { ProxyConfig } from '../../config/types.js';
import { prefixRoute } from '../../config/prefix-route.js';
import { staticCluster } from '../../config/static-cluster.js';
import { DataPlane } from '../../proxy/index.js';
import { Counter, Gauge, Histogram, laneFor } from '../../shm/handles.js';
import { GAUGE_LANES, HISTOGRAM_WORDS, type GaugeCombineName } from '../../shm/layout.js';
import type { StatsStore } from '../../shm/types.js';

/**
 * Requests per keep-alive connection, keep-alive connections, and connection-per-request
 * rounds: about 2,000 requests, 0.4 s at the standby's priority. The first second after a
 * reload then served 28-34k req/s against 30-34k warm; with 800 requests 26-28k; with none
 * 20-24k (dev VM, wrk -c50 keep-alive, one worker).
 */
const KEEP_ALIVE_REQUESTS = 400;
const KEEP_ALIVE_CONNECTIONS = 4;
const CLOSE_REQUESTS = 200;
const TCP_ROUNDS = 200;
/** The warm-up never holds a standby back longer than this. */
const WARM_UP_BUDGET_MS = 3_000;

const RESPONSE = Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 6\r\ncontent-type: text/plain\r\n\r\nhello\n');
const HEAD_END = Buffer.from('\r\n\r\n');

/** Stats in this thread's memory, one small array per stat: the warm-up's own, thrown away with it. */
class ScratchStats implements StatsStore {
  counter(name: string): Counter {
    return new Counter(name, new BigInt64Array(1), 0);
  }

  gauge(name: string, combine: GaugeCombineName = 'sum'): Gauge {
    return new Gauge(name, new BigInt64Array(GAUGE_LANES), 0, laneFor(0), combine);
  }

  histogram(name: string): Histogram {
    return new Histogram(name, new BigInt64Array(HISTOGRAM_WORDS), 0);
  }

  clearLane(): void {}
}

/** Answers every request head it sees with RESPONSE; echoes nothing else (the TCP rounds send heads too). */
function upstream(socket: Socket): void {
  socket.on('error', noop);
  socket.on('data', (chunk: Buffer) => {
    for (let i = chunk.indexOf(HEAD_END); i !== -1; i = chunk.indexOf(HEAD_END, i + 4)) socket.write(RESPONSE);
  });
}

function noop(): void {}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
  });
}

/** Set by `stopWarmUp`: the loops send nothing more. */
let stopped = false;

/** Sends `count` requests one after another on one connection and resolves when all are answered. */
function keepAlive(port: number, count: number, path: string): Promise<void> {
  return new Promise((resolve) => {
    const req = Buffer.from(`GET ${path} HTTP/1.1\r\nhost: warm-up\r\nuser-agent: proxyctl-warm-up\r\n\r\n`);
    const s = connect(port, '127.0.0.1');
    let answered = 0;
    s.on('error', () => resolve());
    s.on('close', () => resolve());
    s.on('connect', () => s.write(req));
    s.on('data', (chunk: Buffer) => {
      // One response per read is the common case; count heads to be exact.
      for (let i = chunk.indexOf('HTTP/1.1 '); i !== -1; i = chunk.indexOf('HTTP/1.1 ', i + 9)) answered++;
      if (answered >= count || stopped) s.end();
      else s.write(req);
    });
  });
}

/** One request on a new connection, `Connection: close` (or a TCP round trip when `raw`). */
function once(port: number, raw: boolean): Promise<void> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.on('error', () => resolve());
    s.on('close', () => resolve());
    s.on('connect', () => s.write(raw ? 'GET /tcp HTTP/1.1\r\nhost: warm-up\r\n\r\n' : 'GET / HTTP/1.1\r\nhost: warm-up\r\nconnection: close\r\n\r\n'));
    s.on('data', () => (raw ? s.end() : undefined));
  });
}

async function traffic(web: number, raw: number): Promise<void> {
  await Promise.all(Array.from({ length: KEEP_ALIVE_CONNECTIONS }, (_, i) => keepAlive(web, KEEP_ALIVE_REQUESTS, i === 0 ? '/direct' : '/')));
  for (let i = 0; i < CLOSE_REQUESTS && !stopped; i++) await once(web, false);
  for (let i = 0; i < TCP_ROUNDS && !stopped; i++) await once(raw, true);
}

/** Ends a warm-up under way within a request or two; the promise it returned then settles. */
export function stopWarmUp(): void {
  stopped = true;
}

/** Runs the warm-up traffic; never throws (a failed warm-up only means a colder start). */
export async function warmUpDataPlane(): Promise<{ ms: number; outcome: 'done' | 'stopped' | 'failed' }> {
  const started = performance.now();
  const up = createServer(upstream);
  const servers = [createServer(), createServer()];
  let plane: DataPlane | null = null;
  let ok = true;
  try {
    const upPort = await listen(up);
    const [webPort, rawPort] = [await listen(servers[0]!), await listen(servers[1]!)];
    const config: ProxyConfig = {
      workers: 1,
      admin: null,
      listeners: [
        {
          name: 'warmup',
          protocol: 'http',
          http2: false,
          address: { host: '127.0.0.1', port: webPort },
          routes: [
            prefixRoute('/direct', { directResponse: { status: 200, body: 'warm\n' } }),
            prefixRoute('/', { cluster: 'warmup' }),
          ],
        },
        { name: 'warmup_tcp', protocol: 'tcp', address: { host: '127.0.0.1', port: rawPort }, cluster: 'warmup' },
      ],
      clusters: [staticCluster('warmup', [{ host: '127.0.0.1', port: upPort }])],
      drain: { strategy: 'immediate', drainTimeMs: 0, parentShutdownTimeMs: 0 },
      standby: false,
      stats: { flushIntervalMs: 5_000, sinks: [] },
    };
    plane = new DataPlane({ stats: new ScratchStats() });
    plane.applyConfig(config);
    plane.addListener('warmup', servers[0]!);
    plane.addListener('warmup_tcp', servers[1]!);
    let timer: NodeJS.Timeout | undefined;
    const budget = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        ok = false;
        stopped = true;
        resolve();
      }, WARM_UP_BUDGET_MS);
    });
    await Promise.race([traffic(webPort, rawPort), budget]);
    clearTimeout(timer);

  } catch {
    ok = false;
  } finally {
    await plane?.shutdown().catch(noop);
    for (const s of servers) if (s.listening) s.close();
    up.close();
  }
  return { ms: Math.round(performance.now() - started), outcome: !ok ? 'failed' : stopped ? 'stopped' : 'done' };
}
