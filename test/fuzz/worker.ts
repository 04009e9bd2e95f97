/**
 * One target in a worker thread, for run.ts. Before each execution the input is copied into a
 * shared buffer, so that when an input hangs the thread or runs it out of memory the parent
 * still knows which one it was. A heartbeat goes up about every 250 ms with the executions so
 * far; its absence is how the parent tells a hang.
 */
import { parentPort, workerData } from 'node:worker_threads';
import fc from 'fast-check';
import { readCorpus } from './corpus.js';
import { loadTarget } from './load-target.js';
import { fuzzInputs } from './mutate.js';

export interface WorkerJob {
  module: string;
  seed: number;
  ms: number;
  /** Int32 [length] followed by the bytes of the input being executed. */
  current: SharedArrayBuffer;
}

export type WorkerReport =
  | { type: 'beat'; execs: number }
  | { type: 'done'; name: string; execs: number; corpus: number; failure: { input: Uint8Array; error: string } | null };

const job = workerData as WorkerJob;
const port = parentPort!;
const length = new Int32Array(job.current, 0, 1);
const bytes = new Uint8Array(job.current, 4);

const target = await loadTarget(job.module);
const corpus = readCorpus(target.name).map((e) => e.bytes);
let execs = 0;
let lastBeat = Date.now();

const property = fc.property(fuzzInputs(target.generate, corpus, target.dictionary), (input) => {
  const n = Math.min(input.length, bytes.length);
  bytes.set(input.subarray(0, n));
  Atomics.store(length, 0, n);
  execs++;
  if ((execs & 255) === 0 && Date.now() - lastBeat >= 250) {
    lastBeat = Date.now();
    port.postMessage({ type: 'beat', execs } satisfies WorkerReport);
  }
  target.check(input);
});

const result = fc.check(property, { seed: job.seed, numRuns: Number.MAX_SAFE_INTEGER, interruptAfterTimeLimit: job.ms, markInterruptAsFailure: false });
const failure =
  result.failed && result.counterexample !== null
    ? { input: new Uint8Array(result.counterexample[0]), error: String(result.errorInstance instanceof Error ? (result.errorInstance.stack ?? result.errorInstance.message) : result.errorInstance) }
    : null;
port.postMessage({ type: 'done', name: target.name, execs, corpus: corpus.length, failure } satisfies WorkerReport);
