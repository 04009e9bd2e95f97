/**
 * `npm run fuzz -- --minutes N [--target NAME] [--seed S] [--jobs J]` (not part of `npm test`):
 * runs every target under targets/ for a share of N minutes of wall time, J at a time (default:
 * one per core), each in its own worker thread with a 512 MiB heap. A target fails when an
 * invariant breaks, the code under test throws, an input stalls the thread for 10 s (a hang) or
 * exhausts the heap. The failing input, shrunk where fast-check could, is saved under
 * corpus/<target>/crash-*, where fuzz.test.ts replays it from then on.
 * Exit status: 0 when every target held, 1 when one failed, 2 on bad arguments.
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { saveCrasher, targetModules } from './corpus.js';
import type { WorkerJob, WorkerReport } from './worker.js';

const HANG_MS = 10_000;
const HEAP_MB = 512;
const CURRENT_BYTES = 1 << 20;

interface Outcome {
  module: string;
  name: string;
  execs: number;
  seconds: number;
  corpus: number;
  failure: string | null;
  crasher: string | null;
}

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '1' }, target: { type: 'string' }, seed: { type: 'string' }, jobs: { type: 'string' }, json: { type: 'boolean', default: false } } });
const minutes = Number(values.minutes);
const jobs = Number(values.jobs ?? availableParallelism());
const seed = values.seed === undefined ? Math.floor(Math.random() * 0x7fffffff) : Number(values.seed);
const modules = targetModules().filter((m) => values.target === undefined || m.endsWith(`/${values.target}.js`));
if (!(minutes > 0) || !(jobs >= 1) || !Number.isInteger(seed) || modules.length === 0) {
  process.stderr.write('usage: npm run fuzz -- --minutes N [--target NAME] [--seed S] [--jobs J] [--json]\n');
  process.exit(2);
}
const perTargetMs = Math.max(2000, Math.floor((minutes * 60_000 * Math.min(jobs, modules.length)) / modules.length));

function lastInput(current: SharedArrayBuffer): Buffer {
  const n = Atomics.load(new Int32Array(current, 0, 1), 0);
  return Buffer.from(new Uint8Array(current, 4, n));
}

function runOne(module: string): Promise<Outcome> {
  const current = new SharedArrayBuffer(4 + CURRENT_BYTES);
  const job: WorkerJob = { module, seed, ms: perTargetMs, current };
  const started = Date.now();
  const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: job, resourceLimits: { maxOldGenerationSizeMb: HEAP_MB } });
  const outcome: Outcome = { module, name: module.replace(/^.*\/|\.js$/g, ''), execs: 0, seconds: 0, corpus: 0, failure: null, crasher: null };
  return new Promise((resolve) => {
    let settled = false;
    const finish = (failure: string | null, input: Buffer | null): void => {
      if (settled) return;
      settled = true;
      clearInterval(watchdog);
      outcome.seconds = (Date.now() - started) / 1000;
      outcome.failure = failure;
      if (input !== null) outcome.crasher = saveCrasher(outcome.name, input);
      void worker.terminate().then(() => resolve(outcome));
    };
    let lastBeat = Date.now();
    const watchdog = setInterval(() => {
      if (Date.now() - lastBeat > HANG_MS) finish(`hang: no progress for ${HANG_MS / 1000} s`, lastInput(current));
    }, 1000);
    worker.on('message', (m: WorkerReport) => {
      lastBeat = Date.now();
      outcome.execs = m.execs;
      if (m.type !== 'done') return;
      outcome.name = m.name;
      outcome.corpus = m.corpus;
      finish(m.failure?.error ?? null, m.failure === null ? null : Buffer.from(m.failure.input));
    });
    worker.on('error', (err: Error & { code?: string }) => finish(`${err.code ?? 'crash'}: ${err.message}`, lastInput(current)));
    worker.on('exit', (code) => finish(code === 0 ? 'worker exited without a report' : `worker exited ${code}`, null));
  });
}

async function main(): Promise<number> {
  if (!values.json) process.stderr.write(`fuzz: ${modules.length} targets, ${perTargetMs / 1000} s each, ${jobs} at a time, seed ${seed}\n`);
  const queue = [...modules];
  const outcomes: Outcome[] = [];
  await Promise.all(
    Array.from({ length: Math.min(jobs, modules.length) }, async () => {
      for (let m = queue.shift(); m !== undefined; m = queue.shift()) {
        const o = await runOne(m);
        outcomes.push(o);
        if (!values.json) process.stderr.write(`fuzz: ${o.name}: ${o.execs} execs in ${o.seconds.toFixed(1)} s${o.failure === null ? '' : ` FAILED, input saved as ${o.crasher ?? '(none)'}\n${o.failure}`}\n`);
      }
    }),
  );
  outcomes.sort((a, b) => a.name.localeCompare(b.name));
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ seed, perTargetMs, outcomes }, null, 2)}\n`);
  } else {
    process.stdout.write(`${'target'.padEnd(20)} ${'execs'.padStart(11)} ${'execs/s'.padStart(9)} ${'corpus'.padStart(6)}  result\n`);
    for (const o of outcomes) {
      process.stdout.write(`${o.name.padEnd(20)} ${String(o.execs).padStart(11)} ${String(Math.round(o.execs / o.seconds)).padStart(9)} ${String(o.corpus).padStart(6)}  ${o.failure === null ? 'ok' : 'FAILED'}\n`);
    }
  }
  return outcomes.some((o) => o.failure !== null) ? 1 : 0;
}

process.exitCode = await main();
