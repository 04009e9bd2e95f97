/*
 * Cost of one load-balancing pick, per policy, over 3 and 100 hosts with equal and with
 * unequal weights, plus the cost of building each policy (once per membership change) and of
 * hash32 on typical request keys. Math.random, as in production. Each row runs in its own
 * process: one call site fed five policy classes goes megamorphic and would add the same
 * ~30 ns to every row. The baseline row is a pick that returns 0 (one host).
 *   npm run build && node dist/bench/lb.js [picks]
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { HOST_SLOTS } from '../src/clusters/types.js';
import { hash32, LB_POLICIES, type LbHost, type LbOptions, type LoadBalancer } from '../src/proxy/lb/index.js';

const PICKS = Number(process.argv[2] ?? 5_000_000);
const ROUNDS = 5;
const OPTS: LbOptions = { choiceCount: 2, ringSize: 1024, maglevTableSize: 65537, random: Math.random };

/** Request hashes cycled through by the hash policies (a power of two: the index is a mask). */
const HASHES = new Uint32Array(4096);
for (let i = 0; i < HASHES.length; i++) HASHES[i] = hash32(`10.1.${i >> 8}.${i & 255}`);

/** equal: 1; unequal: 1,4,7,10 repeating; fractional: those × 0.3; heaviest: 128 (with 128 hosts, round robin's longest precomputed cycle). */
type Weights = 'equal' | 'unequal' | 'fractional' | 'heaviest';
const WEIGHT: Record<Weights, (i: number) => number> = {
  equal: () => 1,
  unequal: (i) => 1 + (i % 4) * 3,
  fractional: (i) => (1 + (i % 4) * 3) * 0.3,
  heaviest: (i) => (i === 0 ? 127 : 128),
};

function hostsOf(n: number, weights: Weights): LbHost[] {
  const hosts: LbHost[] = [];
  for (let i = 0; i < n; i++) {
    const active = new Int32Array(HOST_SLOTS);
    active[0] = (i * 7) % 5;
    hosts.push({ key: `10.0.${i >> 8}.${i & 255}:8080`, weight: WEIGHT[weights](i), active });
  }
  return hosts;
}

let sink = 0;

function run(lb: LoadBalancer, n: number): void {
  let s = 0;
  for (let i = 0; i < n; i++) s += lb.pick(HASHES[i & 4095] as number);
  sink += s;
}

function median(samples: number[]): number {
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)] as number;
}

function nsPerPick(lb: LoadBalancer): number {
  run(lb, PICKS / 10);
  const samples: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    run(lb, PICKS);
    samples.push(Number(process.hrtime.bigint() - t0) / PICKS);
  }
  return median(samples);
}

function usPerBuild(name: keyof typeof LB_POLICIES, hosts: LbHost[]): number {
  const samples: number[] = [];
  for (let r = 0; r < ROUNDS * 4; r++) {
    const t0 = process.hrtime.bigint();
    sink += LB_POLICIES[name].create(hosts, OPTS).pick(0);
    samples.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  return median(samples);
}

type PolicyName = keyof typeof LB_POLICIES;

function row(name: PolicyName, n: number, weights: Weights): string {
  const hosts = hostsOf(n, weights);
  const ns = nsPerPick(LB_POLICIES[name].create(hosts, OPTS));
  const us = n === 1 ? 0 : usPerBuild(name, hosts);
  return `${(n === 1 ? 'baseline' : name).padEnd(14)} ${String(n).padStart(5)}  ${weights.padEnd(10)} ${ns.toFixed(1).padStart(8)}  ${us.toFixed(1).padStart(9)}`;
}

function hashRows(): void {
  const keys = ['203.0.113.7', 'session=3f2a9c1e-77b0-4d1e-9a55-0c3b8e2f1d44', 'a-header-value-of-64-bytes-a-header-value-of-64-bytes-a-header-v'];
  for (const key of keys) {
    hash32(key);
    const samples: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < PICKS / 4; i++) sink += hash32(key) & 1;
      samples.push(Number(process.hrtime.bigint() - t0) / (PICKS / 4));
    }
    console.log(`hash32, ${String(key.length).padStart(2)} chars: ${median(samples).toFixed(1).padStart(6)} ns`);
  }
}

const [mode, name, n, weights] = process.argv.slice(3);
if (mode === 'row') console.log(row(name as PolicyName, Number(n), weights as Weights));
else if (mode === 'hash') hashRows();
else {
  const self = fileURLToPath(import.meta.url);
  const child = (...args: string[]): void => {
    process.stdout.write(execFileSync(process.execPath, [self, String(PICKS), ...args], { encoding: 'utf8' }));
  };
  console.log(`node ${process.version}, ${PICKS} picks × ${ROUNDS} rounds, median; weights "unequal": 1,4,7,10 repeating, "fractional": those × 0.3`);
  console.log('policy         hosts  weights     ns/pick   µs/build');
  child('row', 'roundRobin', '1', 'equal');
  for (const p of Object.keys(LB_POLICIES)) {
    for (const hosts of ['3', '100']) for (const w of p === 'roundRobin' ? ['equal', 'unequal', 'fractional'] : ['equal', 'unequal']) child('row', p, hosts, w);
  }
  child('row', 'roundRobin', '128', 'heaviest');
  child('hash');
}
if (sink === -1) console.log(sink);
