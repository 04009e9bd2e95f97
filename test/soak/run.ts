/**
 * `npm run soak -- --minutes N [--reload-every S] [--json]` (not part of `npm test`): proxyctl as
 * users run it, under mixed HTTP/1.1 keep-alive, HTTP/2 (h2c) and TCP echo load, with a reload
 * every S seconds (default 5), a file-discovery cluster gaining and losing a host every 10 s,
 * and a backend that dies and comes back every 10 s (health checks and retries keep its
 * requests whole). Every 10 s it samples RSS and fds of the supervisor and each live epoch and
 * what the clients did. At the end: a table over time and a summary (report.ts). Exit 1 if any
 * request or reload failed, memory or fds grew past the limits, or proxyctl's counters disagree
 * with the clients'. Everything it started is stopped by pid, also on Ctrl-C.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ChildProcess } from 'node:child_process';
import { freePort } from '../helpers.js';
import { runCli } from '../fixtures/supervisor-util.js';
import { HttpLoad } from '../fixtures/load.js';
import { H2Load } from '../fixtures/h2-load.js';
import { TcpLoad } from './tcp-load.js';
import { OwnedProcesses } from './processes.js';
import { EndpointFile, Flapper, Reloader } from './churn.js';
import { epochUse, processUse, type Sample } from './sample.js';
import { counterCheck, growth, summary, table } from './report.js';
import { soakConfig } from './config.js';

const SAMPLE_EVERY_MS = 10_000;
const CHURN_EVERY_MS = 10_000;

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '5' }, 'reload-every': { type: 'string', default: '5' }, json: { type: 'boolean', default: false } } });
const durationMs = Number(values.minutes) * 60_000;
const reloadEveryMs = Number(values['reload-every']) * 1000;
if (!(durationMs > 0) || !(reloadEveryMs > 0)) {
  process.stderr.write('usage: npm run soak -- --minutes N [--reload-every S] [--json]\n');
  process.exit(2);
}
const say = (line: string): void => {
  if (!values.json) process.stderr.write(`soak: ${line}\n`);
};

const dir = mkdtempSync(join(tmpdir(), 'proxyctl-soak-'));
const baseId = 40_000 + (process.pid % 20_000);
const common = ['--base-id', String(baseId), '--runtime-dir', join(dir, 'run')];
const procs = new OwnedProcesses();
let proxyctl: ChildProcess | null = null;
let interrupted = false;

function cleanUp(): Promise<number> {
  return procs.stopAll(proxyctl);
}

process.once('SIGINT', () => {
  interrupted = true;
  say('interrupted: stopping everything');
});
process.once('SIGTERM', () => {
  interrupted = true;
});

async function main(): Promise<number> {
  const up = async (name: string): Promise<number> => (await procs.backend('named-backend', ['127.0.0.1', '0', name])).port;
  const staticHosts = [await up('static-a'), await up('static-b')];
  const filePool = [await up('file-a'), await up('file-b'), await up('file-c')];
  const stable = await up('stable');
  const echo = (await procs.backend('echo-backend', ['127.0.0.1', '0'])).port;
  const flapper = new Flapper(procs, await freePort(), CHURN_EVERY_MS);
  await flapper.start();
  const endpoints = new EndpointFile(join(dir, 'file-endpoints.yaml'), filePool, CHURN_EVERY_MS);
  const ports = { http1: await freePort(), http2: await freePort(), tcp: await freePort() };
  const configPath = join(dir, 'proxyctl.yaml');
  writeFileSync(configPath, soakConfig({ ports, staticHosts, stable, flapping: flapper.port, echo, endpointFile: 'file-endpoints.yaml' }));
  proxyctl = await procs.proxyctl(common, configPath, join(dir, 'proxyctl.log'));
  say(`proxyctl serving (pid ${proxyctl.pid}, base id ${baseId}, dir ${dir}); running ${values.minutes} min`);

  const http1 = [new HttpLoad(ports.http1, { keepAlive: 3, perRequest: 1, path: '/' }), new HttpLoad(ports.http1, { keepAlive: 2, perRequest: 0, path: '/flap' }), new HttpLoad(ports.http1, { keepAlive: 2, perRequest: 0, path: '/file' })].map((l) => l.start());
  const http2 = H2Load.run(ports.http2, 2, 4);
  const tcp = new TcpLoad(ports.tcp, 20).start(3);
  const reloader = new Reloader(common, reloadEveryMs);
  reloader.start();
  endpoints.start();

  const started = Date.now();
  const samples: Sample[] = [];
  const sample = async (): Promise<Sample> => ({
    atMs: Date.now() - started,
    supervisor: proxyctl?.pid === undefined ? null : processUse(proxyctl.pid),
    epochs: await epochUse(common, procs.epochPids),
    done: { http1: http1.reduce((n, l) => n + l.result.responses, 0), http2: http2.result.responses, tcp: tcp.result.echoes },
    failed: { http1: http1.reduce((n, l) => n + l.result.failures.length, 0), http2: http2.result.failures.length, tcp: tcp.result.failures.length },
    reloads: reloader.done,
  });
  while (!interrupted && Date.now() - started < durationMs) {
    await new Promise((r) => setTimeout(r, Math.min(SAMPLE_EVERY_MS, durationMs - (Date.now() - started))).unref());
    if (interrupted) break;
    const s = await sample();
    samples.push(s);
    say(`${(s.atMs / 1000).toFixed(0)} s: http1 ${s.done.http1}, http2 ${s.done.http2}, tcp ${s.done.tcp} done; ${s.failed.http1 + s.failed.http2 + s.failed.tcp} failed; ${s.reloads} reloads; ${s.epochs.length} live epochs`);
  }

  // Churn first, then the clients, so every request ends before the counters are read.
  await reloader.stop();
  endpoints.stop();
  await flapper.stop();
  const [h1, h2, t] = [await Promise.all(http1.map((l) => l.stop())), await http2.stop(), await tcp.stop()];
  await new Promise((r) => setTimeout(r, 1000));
  const stats = await runCli(['stats', '--json', ...common]);
  const counters = (stats.json?.counters ?? {}) as Record<string, number>;
  const h1Done = h1.reduce((n, r) => n + r.responses, 0);
  const h1Failed = h1.reduce((n, r) => n + r.failures.length, 0);
  const checks = [
    counterCheck('http.h1.downstream_rq_total (HTTP/1.1 requests)', counters['http.h1.downstream_rq_total'] ?? 0, h1Done, h1Done + h1Failed),
    counterCheck('http.h2.downstream_rq_total (HTTP/2 requests; refused streams were never processed)', counters['http.h2.downstream_rq_total'] ?? 0, h2.responses, h2.responses + h2.refusedRetried + h2.failures.length),
    counterCheck('listener.h2.downstream_cx_total (HTTP/2 sessions)', counters['listener.h2.downstream_cx_total'] ?? 0, h2.sessions - h2.failures.length, h2.sessions),
    counterCheck('listener.tcp.downstream_cx_total (TCP connections)', counters['listener.tcp.downstream_cx_total'] ?? 0, t.connections, t.connections + t.failures.length),
  ];
  const failures = [...h1.flatMap((r) => r.failures.map((f) => `http1 ${f}`)), ...h2.failures.map((f) => `http2 ${f}`), ...t.failures, ...reloader.failures];
  const growths = growth(samples, Math.min(durationMs, Date.now() - started));
  const left = await cleanUp();
  if (left > 0) failures.push(`${left} epoch process(es) outlived the supervisor`);
  const ok = failures.length === 0 && growths.every((g) => g.ok) && checks.every((c) => c.ok) && !interrupted;
  const extra = { reloads: reloader.done, flaps: flapper.flaps, endpointEdits: endpoints.edits, http2RefusedRetried: h2.refusedRetried, http2Sessions: h2.sessions, tcpConnections: t.connections, statsOverflow: counters['stats.overflow'] ?? 0 };
  if (values.json) process.stdout.write(`${JSON.stringify({ ok, minutes: Number(values.minutes), reloadEverySeconds: reloadEveryMs / 1000, ...extra, failures, growth: growths, counters: checks, samples }, null, 2)}\n`);
  else {
    process.stdout.write(`${table(samples)}\n\n`);
    process.stdout.write(`reloads ${extra.reloads}, flaps ${extra.flaps}, endpoint file edits ${extra.endpointEdits}, HTTP/2 streams refused and sent again ${extra.http2RefusedRetried}, HTTP/2 sessions ${extra.http2Sessions}, TCP connections ${extra.tcpConnections}\n`);
    process.stdout.write(`${summary(growths, checks, failures)}\n${ok ? 'PASS' : interrupted ? 'INTERRUPTED' : 'FAIL'}\n`);
  }
  return ok ? 0 : 1;
}

void main()
  .catch(async (err: unknown) => {
    process.stderr.write(`soak: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    await cleanUp();
    return 1;
  })
  .then((code) => {
    if (code === 0) rmSync(dir, { recursive: true, force: true });
    else process.stderr.write(`soak: kept ${dir} (proxyctl.log) for a look\n`);
    process.exit(interrupted ? 130 : code);
  });
