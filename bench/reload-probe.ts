/*
 * Helper for bench/reload.sh (run it through that script; it starts the proxies).
 *
 *   node dist/bench/reload-probe.js loop --target proxyctl --cli bin/run.js --base-id 7 --runtime-dir DIR \
 *        --count 100 --interval 0.4 --log FILE.jsonl [--deadline S] [--track-old]
 *   node dist/bench/reload-probe.js loop --target nginx --prefix DIR --conf FILE --master PID ...
 *   node dist/bench/reload-probe.js loop --target haproxy --master-sock SOCK --master PID ...
 *   node dist/bench/reload-probe.js get http://127.0.0.1:PORT/ [--close]
 *
 * `loop` reloads the target --count times, one reload every --interval seconds (each one run
 * to completion, i.e. until the new workers serve; when a reload takes longer than the
 * interval the next one starts at once), and appends one JSON line per reload to --log (see
 * ReloadRecord in reload-targets.ts). It stops early at --deadline seconds or on SIGTERM/SIGINT.
 * One Node process for the whole loop, so the measuring side costs the same for every target.
 *
 * `get` sends one request (a fresh connection) and prints {status, body, connection}; exit 0
 * when the status is 200. With --close it sends `Connection: close`, to check the proxy answers
 * `close` (otherwise the close scenario would silently be a keep-alive one).
 */
import { appendFileSync } from 'node:fs';
import { request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { HaproxyReloader, NginxReloader, ProxyctlReloader, type ReloadOutcome, type ReloadRecord, type Reloader } from './reload-targets.js';

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    target: { type: 'string' },
    count: { type: 'string', default: '20' },
    interval: { type: 'string', default: '1' },
    deadline: { type: 'string' },
    log: { type: 'string' },
    'track-old': { type: 'boolean', default: false },
    cli: { type: 'string' },
    'base-id': { type: 'string' },
    'runtime-dir': { type: 'string' },
    prefix: { type: 'string' },
    conf: { type: 'string' },
    master: { type: 'string' },
    'master-sock': { type: 'string' },
    close: { type: 'boolean', default: false },
  },
});

function need(name: keyof typeof args): string {
  const v = args[name];
  if (typeof v !== 'string' || v === '') throw new Error(`--${name} is required`);
  return v;
}

function makeReloader(target: string): Reloader {
  switch (target) {
    case 'proxyctl':
      return new ProxyctlReloader(need('cli'), need('base-id'), need('runtime-dir'));
    case 'nginx':
      return new NginxReloader(need('prefix'), need('conf'), Number(need('master')));
    case 'haproxy':
      return new HaproxyReloader(need('master-sock'), Number(need('master')));
    default:
      throw new Error(`unknown --target ${target} (proxyctl, nginx or haproxy)`);
  }
}

async function loop(): Promise<void> {
  const reloader = makeReloader(need('target'));
  const log = need('log');
  const count = Number(args.count);
  const intervalMs = Number(args.interval) * 1000;
  const deadlineMs = args.deadline === undefined ? Infinity : Number(args.deadline) * 1000;
  // A signal ends the loop after the reload in progress (its record is still written)...
  let stopSignal: NodeJS.Signals | null = null;
  const onSignal = (sig: NodeJS.Signals): void => {
    stopSignal = sig;
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  const start = performance.now();
  let ok = 0;
  let failed = 0;
  let late = 0;
  for (let i = 1; i <= count && stopSignal === null; i++) {
    const wait = start + (i - 1) * intervalMs - performance.now();
    if (wait > 0) await sleep(wait);
    else if (i > 1) late++;
    if (performance.now() - start > deadlineMs) {
      process.stderr.write(`reload-probe: deadline of ${deadlineMs / 1000} s reached after ${i - 1} reloads\n`);
      break;
    }
    const atS = Math.round((performance.now() - start) / 10) / 100;
    let outcome: ReloadOutcome;
    try {
      outcome = await reloader.reload(args['track-old']);
    } catch (err: unknown) {
      outcome = { ok: false, cmdMs: 0, readyMs: null, error: err instanceof Error ? err.message : String(err) };
    }
    const record: ReloadRecord = { i, atS, ...outcome };
    appendFileSync(log, `${JSON.stringify(record)}\n`);
    if (outcome.ok) ok++;
    else {
      failed++;
      process.stderr.write(`reload-probe: reload ${i} failed: ${outcome.error ?? '?'}\n`);
    }
  }
  const secs = (performance.now() - start) / 1000;
  console.log(`reloads ok=${ok} failed=${failed} in ${secs.toFixed(1)} s; started late (previous reload overran the interval): ${late}`);
  // ...and is then re-raised, so that a shell waiting on us sees a death by SIGINT and runs
  // its own trap (bash ignores a Ctrl-C that the foreground command handled and survived).
  if (stopSignal !== null) {
    process.removeAllListeners(stopSignal);
    process.kill(process.pid, stopSignal);
  }
}

function get(url: string): Promise<void> {
  const u = new URL(url);
  if (u.protocol !== 'http:' || !['127.0.0.1', 'localhost'].includes(u.hostname)) throw new Error(`refusing non-loopback URL ${url}`);
  return new Promise((resolve, reject) => {
    const req = request(u, { agent: false, timeout: 5_000, headers: args.close ? { connection: 'close' } : {} }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => {
        console.log(JSON.stringify({ status: res.statusCode, body, connection: res.headers.connection ?? null }));
        if (res.statusCode !== 200) process.exitCode = 1;
        resolve();
      });
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 5 s')));
    req.on('error', reject);
    req.end();
  });
}

try {
  const [command, url] = positionals;
  if (command === 'loop') await loop();
  else if (command === 'get' && url !== undefined) await get(url);
  else throw new Error('usage: reload-probe.js loop --target ... | get URL [--close]');
} catch (err: unknown) {
  process.stderr.write(`reload-probe: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 2;
}
