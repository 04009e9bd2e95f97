/*
 * HTTP/1.1 keep-alive throughput of one DataPlane (main thread) in front of a keep-alive
 * backend, side by side with the backend alone and, when nginx is installed, an nginx proxy
 * configured like bench/conf/nginx-proxy.conf. One run, interleaved, so ratios mean something.
 *   npm run build && node dist/bench/proxy-http.js [--duration 5] [--connections 50] [--reps 2]
 * Needs wrk. The backend is nginx (1 worker, `return 200 "hello\n"`) when available, else a
 * tiny Node backend in a child process. Loopback only; ports are picked free at start.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type { ProxyConfig } from '../src/config/types.js';
import { prefixRoute } from '../src/config/prefix-route.js';
import { staticCluster } from '../src/config/static-cluster.js';
import { DataPlane, buildSnapshot } from '../src/proxy/index.js';
import { StatsRegion } from '../src/shm/index.js';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '5' },
    connections: { type: 'string', default: '50' },
    reps: { type: 'string', default: '2' },
    'node-backend': { type: 'boolean', default: false },
  },
});

const dir = mkdtempSync(join(tmpdir(), 'proxyctl-bench-http-'));
const children: ChildProcess[] = [];

function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function nginxConf(body: string): string {
  return [
    'worker_processes 1;', 'daemon off;', 'pid nginx.pid;', 'error_log logs/error.log warn;', 'worker_rlimit_nofile 16384;',
    'events { worker_connections 8192; }',
    'http {', 'access_log off;', 'keepalive_timeout 65s;', 'keepalive_requests 1000000;',
    'client_body_temp_path tmp/body;', 'proxy_temp_path tmp/proxy;', 'fastcgi_temp_path tmp/fastcgi;',
    'uwsgi_temp_path tmp/uwsgi;', 'scgi_temp_path tmp/scgi;', body, '}',
  ].join('\n');
}

function startNginx(name: string, http: string): void {
  const prefix = join(dir, name);
  mkdirSync(join(prefix, 'logs'), { recursive: true });
  mkdirSync(join(prefix, 'tmp'), { recursive: true });
  writeFileSync(join(prefix, 'nginx.conf'), nginxConf(http));
  children.push(spawn('nginx', ['-p', `${prefix}/`, '-c', join(prefix, 'nginx.conf')], { stdio: 'ignore' }));
}

const NODE_BACKEND = `
const net = require('node:net');
const res = Buffer.from('HTTP/1.1 200 OK\\r\\ncontent-type: text/plain\\r\\ncontent-length: 6\\r\\n\\r\\nhello\\n');
net.createServer({ noDelay: true }, (s) => {
  let acc = '';
  s.on('data', (d) => { acc += d.toString('latin1'); let i; while ((i = acc.indexOf('\\r\\n\\r\\n')) >= 0) { acc = acc.slice(i + 4); s.write(res); } });
  s.on('error', () => {});
}).listen(Number(process.argv[1]), '127.0.0.1');
`;

async function main(): Promise<void> {
  if (!has('wrk')) {
    console.log('wrk not installed (apt-get install -y wrk): nothing to measure');
    return;
  }
  const useNginx = has('nginx') && !args['node-backend'];
  const backendPort = await freePort();
  if (useNginx) {
    startNginx('backend', `server { listen 127.0.0.1:${backendPort} backlog=4096; location / { default_type text/plain; return 200 "hello\\n"; } }`);
  } else {
    children.push(spawn(process.execPath, ['-e', NODE_BACKEND, String(backendPort)], { stdio: 'ignore' }));
  }
  let nginxProxyPort = 0;
  if (has('nginx')) {
    nginxProxyPort = await freePort();
    startNginx(
      'proxy',
      `upstream backend { server 127.0.0.1:${backendPort}; keepalive 64; keepalive_requests 1000000; keepalive_timeout 60s; }\n` +
        `server { listen 127.0.0.1:${nginxProxyPort} backlog=4096; location / { proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection ""; } }`,
    );
  }

  const stats = StatsRegion.create(join(dir, 'stats'));
  const config: ProxyConfig = {
    workers: 1,
    admin: null,
    listeners: [{ name: 'bench', protocol: 'http', http2: false, address: { host: '127.0.0.1', port: 0 }, routes: [prefixRoute('/', { cluster: 'backend' })] }],
    clusters: [staticCluster('backend', [{ host: '127.0.0.1', port: backendPort }])],
    drain: { strategy: 'immediate', drainTimeMs: 0, parentShutdownTimeMs: 0 },
    standby: false,
    stats: { flushIntervalMs: 5_000, sinks: [] },
  };
  const plane = new DataPlane({ stats });
  plane.applySnapshot(buildSnapshot(config, stats));
  const server: Server = createServer();
  await new Promise<void>((r) => server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, r));
  plane.addListener('bench', server);
  const proxyPort = (server.address() as { port: number }).port;
  await sleep(500);

  // wrk blocks this thread, and the proxy runs in this thread: so wrk runs in a child shell.
  const results: Record<string, number[]> = { backend: [], proxyctl: [], nginx: [] };
  const targets: Array<[string, number]> = [['backend', backendPort], ['proxyctl', proxyPort]];
  if (nginxProxyPort !== 0) targets.push(['nginx', nginxProxyPort]);
  for (let rep = 0; rep < Number(args.reps); rep++) {
    for (const [name, port] of targets) {
      const rps = await wrkAsync(port);
      (results[name] as number[]).push(rps);
      console.log(`rep ${rep + 1} ${name.padEnd(9)} ${rps.toFixed(0)} req/s`);
    }
  }
  const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  const p = med(results.proxyctl as number[]);
  console.log(`\nwrk -t1 -c${args.connections} -d${args.duration}s, ${args.reps} reps (median), backend=${useNginx ? 'nginx' : 'node'}`);
  console.log(`backend direct ${med(results.backend as number[]).toFixed(0)} req/s`);
  console.log(`proxyctl       ${p.toFixed(0)} req/s`);
  if (nginxProxyPort !== 0) {
    const n = med(results.nginx as number[]);
    console.log(`nginx proxy    ${n.toFixed(0)} req/s   proxyctl/nginx = ${(p / n).toFixed(2)}`);
  }
  console.log(`backend connections opened by proxyctl: ${stats.counter('cluster.backend.upstream_cx_total').value()}`);
  await plane.shutdown();
}

function wrkAsync(port: number): Promise<number> {
  return new Promise((resolve) => {
    const c = spawn('wrk', ['-t1', `-c${args.connections}`, `-d${args.duration}s`, `http://127.0.0.1:${port}/`], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.on('close', () => {
      const m = /Requests\/sec:\s+([\d.]+)/.exec(out);
      const bad = /Non-2xx or 3xx responses: \d+|Socket errors: .*/.exec(out);
      if (bad !== null) process.stderr.write(`  (port ${port}) ${bad[0]}\n`);
      resolve(m === null ? 0 : Number(m[1]));
    });
  });
}

try {
  await main();
} finally {
  for (const c of children) c.kill('SIGTERM');
  await sleep(200);
  rmSync(dir, { recursive: true, force: true });
}
