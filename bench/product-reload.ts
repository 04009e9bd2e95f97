/*
 * Reload and CLI timing helper of bench/product.sh: runs the proxyctl CLI as a user does and
 * appends one JSON line per command to --log.
 *
 *   node dist/bench/product-reload.js reloads --cli bin/run.js --base-id N --runtime-dir DIR \
 *        --count 20 --interval 1 [--cold] --log FILE
 *     `proxyctl reload --json [--cold]`, one started every --interval s (at once if the previous
 *     one overran). Each line: {kind:"reload"|"cold", i, rc, wallMs, readyAtMs, epoch, atSec, withinInterval}.
 *     readyAtMs is the `ready` event's atMs in the reply's timeline (supervisor side: request
 *     received -> new epoch accepting); wallMs is the CLI's whole run, spawn to exit. With
 *     --deadline S: no reload starts after S s (logs {skipped: N}). With
 *     --cold, an exit status 2 (usage: the flag does not exist yet; or oclif's "Nonexistent flag"
 *     error, which it reports with exit 1 under --json) stops the loop at once and
 *     logs {kind:"cold", unsupported:true}.
 *   node dist/bench/product-reload.js cli --cli bin/run.js --base-id N --runtime-dir DIR --count 10 --log FILE
 *     Alternates `node -e 0` and `proxyctl status --json`, --count of each. Lines
 *     {kind:"node-e0"|"status", wallMs, rc} (the last status line also carries `standby`).
 *
 * One Node process times every command (spawn to exit, performance.now()), so the figures of
 * `node -e 0` and of the CLI carry the same spawn overhead.
 */
import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    cli: { type: 'string' },
    'base-id': { type: 'string' },
    'runtime-dir': { type: 'string' },
    count: { type: 'string', default: '20' },
    interval: { type: 'string', default: '1' },
    cold: { type: 'boolean', default: false },
    log: { type: 'string' },
    tag: { type: 'string', default: '' },
    deadline: { type: 'string' },
  },
});

function need(name: 'cli' | 'base-id' | 'runtime-dir' | 'log'): string {
  const v = args[name];
  if (v === undefined || v === '') throw new Error(`--${name} is required`);
  return v;
}

interface Run {
  rc: number;
  wallMs: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, argv: string[], timeoutMs: number): Promise<Run> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const c = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => c.kill('SIGKILL'), timeoutMs);
    c.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ rc: code ?? (signal === null ? -1 : 128), wallMs: performance.now() - t0, stdout, stderr });
    });
  });
}

const log = need('log');
const emit = (o: Record<string, unknown>): void => appendFileSync(log, `${JSON.stringify({ tag: args.tag, ...o })}\n`);
const common = (): string[] => ['--base-id', need('base-id'), '--runtime-dir', need('runtime-dir'), '--json'];

function parseJson(text: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

async function reloads(): Promise<void> {
  const cli = need('cli');
  const count = Number(args.count);
  const intervalMs = Number(args.interval) * 1000;
  const kind = args.cold ? 'cold' : 'reload';
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    if (args.deadline !== undefined && performance.now() - t0 > Number(args.deadline) * 1000) {
      emit({ kind, i, skipped: count - i, note: `deadline of ${args.deadline} s reached` });
      return;
    }
    const due = t0 + i * intervalMs;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const startedAt = performance.now();
    const r = await run(process.execPath, [cli, 'reload', ...common(), ...(args.cold ? ['--cold'] : [])], 120_000);
    const reply = parseJson(r.stdout);
    // Exit 2 is a usage error; with --json this oclif version exits 1 and prints its parse error.
    if (args.cold && (r.rc === 2 || (r.rc !== 0 && /Nonexistent flag: --cold/.test(r.stdout + r.stderr)))) {
      emit({ kind, i, rc: r.rc, unsupported: true, stderr: (/Nonexistent flag: --cold/.exec(r.stdout + r.stderr)?.[0] ?? r.stderr.slice(0, 300)) || r.stdout.slice(0, 300) });
      return;
    }
    const timeline = Array.isArray(reply?.timeline) ? (reply.timeline as Array<{ event?: string; atMs?: number }>) : [];
    const ready = timeline.find((e) => e.event === 'ready');
    emit({
      kind,
      i,
      rc: r.rc,
      wallMs: Math.round(r.wallMs * 10) / 10,
      readyAtMs: typeof ready?.atMs === 'number' ? ready.atMs : null,
      epoch: typeof reply?.epoch === 'number' ? reply.epoch : null,
      coalesced: reply?.coalesced === true,
      atSec: Math.round((startedAt - t0) / 100) / 10,
      withinInterval: r.rc === 0 && performance.now() <= due + intervalMs,
      ...(r.rc === 0 ? {} : { stderr: r.stderr.slice(0, 300) || r.stdout.slice(0, 300) }),
    });
  }
}

async function cliTimes(): Promise<void> {
  const cli = need('cli');
  const count = Number(args.count);
  let last: Record<string, unknown> | null = null;
  for (let i = 0; i < count; i++) {
    const n = await run(process.execPath, ['-e', '0'], 30_000);
    emit({ kind: 'node-e0', i, rc: n.rc, wallMs: Math.round(n.wallMs * 10) / 10 });
    const s = await run(process.execPath, [cli, 'status', ...common()], 30_000);
    last = parseJson(s.stdout);
    emit({ kind: 'status', i, rc: s.rc, wallMs: Math.round(s.wallMs * 10) / 10 });
  }
  emit({ kind: 'status-reply', reply: last });
}

const mode = positionals[0];
if (mode === 'reloads') await reloads();
else if (mode === 'cli') await cliTimes();
else throw new Error('usage: product-reload.js reloads|cli ... (see the header of bench/product-reload.ts)');
