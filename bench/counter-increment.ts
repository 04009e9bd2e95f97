/*
 * Cost of one counter increment on the shared stats region, side by side with a plain
 * in-process BigInt64Array, in one run so the ratio means something on a shared machine.
 *   npm run bench            (or: node dist/bench/counter-increment.js [iterations])
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StatsRegion } from '../src/shm/index.js';

const ITERATIONS = Number(process.argv[2] ?? 20_000_000);
const ROUNDS = 7;

type Variant = { name: string; run: (n: number) => void };

function measure(v: Variant): number {
  v.run(ITERATIONS / 10); // warm up so the JIT has optimized the loop
  const samples: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    v.run(ITERATIONS);
    samples.push(Number(process.hrtime.bigint() - t0) / ITERATIONS);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(ROUNDS / 2)] as number;
}

const dir = mkdtempSync(join(tmpdir(), 'proxyctl-bench-'));
try {
  const region = StatsRegion.create(join(dir, 'stats'));
  const counter = region.counter('bench.counter');
  const shared = region.words;
  const slot = region.entries().next().value?.firstWord ?? 0;
  const plain = new BigInt64Array(8);
  const sab = new BigInt64Array(new SharedArrayBuffer(64));

  const variants: Variant[] = [
    { name: 'plain BigInt64Array, a[i] += 1n (in-process, not atomic)', run: (n) => { for (let i = 0; i < n; i++) plain[0] = (plain[0] as bigint) + 1n; } },
    { name: 'Atomics.add on an in-process SharedArrayBuffer', run: (n) => { for (let i = 0; i < n; i++) Atomics.add(sab, 0, 1n); } },
    { name: 'Atomics.add on the mmap\'d stats region', run: (n) => { for (let i = 0; i < n; i++) Atomics.add(shared, slot, 1n); } },
    { name: 'Counter.inc() (the handle hot paths hold)', run: (n) => { for (let i = 0; i < n; i++) counter.inc(); } },
  ];
  const results = variants.map((v) => ({ variant: v.name, nsPerOp: measure(v) }));
  const base = results[0]?.nsPerOp ?? 1;
  console.log(`node ${process.version}, ${ITERATIONS} increments × ${ROUNDS} rounds, median ns/op`);
  for (const r of results) console.log(`${r.nsPerOp.toFixed(2).padStart(7)} ns/op  ${(r.nsPerOp / base).toFixed(2).padStart(5)}×  ${r.variant}`);
  if (counter.value() === 0n) throw new Error('counter did not move');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
