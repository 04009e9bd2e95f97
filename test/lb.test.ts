/**
 * The load-balancing policies that ignore the request's hash (round robin, random, least
 * request), slow start and the policy table. Every random source is seeded; bounds on shares
 * are stated in the test names. Hash policies and the hash: lb-hash.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LB_POLICIES, leastRequest, random, roundRobin, slowStartFactor } from '../src/proxy/lb/index.js';
import { fiveSigma, hosts, opts, setActive, tally } from './fixtures/lb-util.js';

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);

/** How often each of hosts 0..n-1 appears in `seq`. */
function countOf(seq: readonly number[], n: number): number[] {
  const out = new Array<number>(n).fill(0);
  for (const h of seq) out[h] = (out[h] ?? 0) + 1;
  return out;
}

/** True when `seq` is a rotation of `cycle`. */
function isRotation(seq: readonly number[], cycle: readonly number[]): boolean {
  const twice = [...cycle, ...cycle].join(',');
  return seq.length === cycle.length && `,${twice},`.includes(`,${seq.join(',')},`);
}

test('round robin, equal weights: a cycle over every host, starting at a random host', () => {
  const firsts = new Set<number>();
  for (let seed = 1; seed <= 20; seed++) {
    const lb = roundRobin.create(hosts([1, 1, 1, 1]), opts(seed));
    const seq = Array.from({ length: 12 }, () => lb.pick(-1));
    const start = seq[0] as number;
    firsts.add(start);
    assert.deepEqual(seq, Array.from({ length: 12 }, (_, i) => (start + i) % 4), `seed ${seed}`);
  }
  assert.ok(firsts.size >= 3, `20 policies started at only ${[...firsts].join(',')}`);
  // Weights all equal but not 1 take the same path.
  assert.deepEqual(tally(roundRobin.create(hosts([3, 3, 3]), opts(1)), 3, 300), [100, 100, 100]);
});

test('round robin, weights 5,1,1: exactly 5000/1000/1000 of 7000 picks, interleaved as a a b a c a a', () => {
  for (let seed = 1; seed <= 7; seed++) {
    const lb = roundRobin.create(hosts([5, 1, 1]), opts(seed));
    const seq = Array.from({ length: 7000 }, () => lb.pick(-1));
    assert.deepEqual(countOf(seq, 3), [5000, 1000, 1000]);
    for (let at = 0; at < 7000; at += 7) assert.ok(isRotation(seq.slice(at, at + 7), [0, 0, 1, 0, 2, 0, 0]), `seed ${seed} at ${at}: ${seq.slice(at, at + 7).join('')}`);
  }
});

test('round robin, integer weights: every Σw picks give each host exactly its weight, with no host twice in a row beyond its share', () => {
  const w = [3, 2, 1, 7, 4];
  const lb = roundRobin.create(hosts(w), opts(5));
  const seq = Array.from({ length: sum(w) * 10 }, () => lb.pick(-1));
  assert.deepEqual(countOf(seq, w.length), w.map((x) => x * 10));
  // The heaviest (7 of 17) never runs more than twice in a row: it is spread out, not bunched.
  const run = seq.join('').match(/3+/g)?.reduce((m, r) => Math.max(m, r.length), 0);
  assert.ok(run !== undefined && run <= 2, `longest run of the heaviest host: ${run}`);
});

test('round robin, a cycle too long to precompute (200 hosts up to weight 128): still exact over Σw picks', () => {
  const w = Array.from({ length: 200 }, (_, i) => 1 + ((i * 37) % 128));
  assert.ok(sum(w) * w.length > 1 << 21, 'this case must take the live algorithm');
  const lb = roundRobin.create(hosts(w), opts(9));
  assert.deepEqual(tally(lb, w.length, sum(w)), w);
});

test('round robin, fractional weights 0.5,1.5,2: exactly 500/1500/2000 of 4000; 0.3,0.7: 300/700 of 1000 within 1', () => {
  assert.deepEqual(tally(roundRobin.create(hosts([0.5, 1.5, 2]), opts(3)), 3, 4000), [500, 1500, 2000]);
  const [a = 0, b = 0] = tally(roundRobin.create(hosts([0.3, 0.7]), opts(4)), 2, 1000);
  assert.ok(Math.abs(a - 300) <= 1 && Math.abs(b - 700) <= 1, `${a}/${b}`);
  // A slow-start share among full hosts still gets its turns, spread out.
  const lb = roundRobin.create(hosts([1, 1, 0.25]), opts(6));
  const seq = Array.from({ length: 900 }, () => lb.pick(-1));
  assert.equal(seq.filter((h) => h === 2).length, 100);
  for (let at = 0; at < 900; at += 9) assert.equal(seq.slice(at, at + 9).filter((h) => h === 2).length, 1, `picks ${at}..${at + 8}`);
});

test('random: each share within 5 binomial sigmas over 100 000 picks, equal and weighted 1,2,7', () => {
  const n = 100_000;
  for (const w of [[1, 1, 1, 1], [1, 2, 7], [0.5, 3.25, 0.25]]) {
    const counts = tally(random.create(hosts(w), opts(11)), w.length, n);
    w.forEach((x, i) => {
      const p = x / sum(w);
      assert.ok(Math.abs((counts[i] as number) - n * p) <= fiveSigma(n, p), `weights ${w}: host ${i} got ${counts[i]}, expected ${n * p}`);
    });
  }
});

test('least request: a host with 100 requests in flight is picked only when drawn twice, within 5 sigmas of 1/16 (1/64 with 3 choices)', () => {
  for (const [choiceCount, p] of [[2, 1 / 16], [3, 1 / 64]] as const) {
    const hs = hosts([1, 1, 1, 1]);
    hs.forEach((h, i) => {
      setActive(h, i === 2 ? 100 : i);
    });
    const n = 20_000;
    const counts = tally(leastRequest.create(hs, opts(21, { choiceCount })), 4, n);
    assert.ok(Math.abs((counts[2] as number) - n * p) <= fiveSigma(n, p), `${choiceCount} choices: loaded host got ${counts[2]}`);
    assert.ok((counts[0] as number) > (counts[1] as number) && (counts[1] as number) > (counts[3] as number), `fewer in flight, more picks: ${counts}`);
  }
});

test('least request, one host: always 0', () => {
  const lb = leastRequest.create(hosts([3]), opts(1));
  for (let i = 0; i < 10; i++) assert.equal(lb.pick(-1), 0);
});

/**
 * Requests that each stay in flight for `latency` picks: the picked host's counter goes up, and
 * the one picked `latency` picks earlier comes down. Returns picks per host.
 */
function simulate(weights: readonly number[], latency: number, n: number, seed: number): number[] {
  const hs = hosts(weights);
  const lb = leastRequest.create(hs, opts(seed));
  const inFlight = new Int32Array(latency).fill(-1);
  const counts = new Array<number>(hs.length).fill(0);
  for (let i = 0; i < n; i++) {
    const done = inFlight[i % latency] as number;
    if (done >= 0) setActive(hs[done]!, (hs[done]!.active[0] as number) - 1);
    const h = lb.pick(-1);
    setActive(hs[h]!, (hs[h]!.active[0] as number) + 1);
    inFlight[i % latency] = h;
    counts[h] = (counts[h] ?? 0) + 1;
  }
  return counts;
}

/**
 * Shares under load, as `simulate` makes it: requests 1, 5 and 40 picks long, so 1, 5 or 40 in
 * flight. The case of one heavy host among nine light ones is the one a comparison by
 * weight / (active + 1) over uniform draws gets wrong (~60% of the heavy host's share).
 */
test('least request under load: equal weights within ±5% of an equal share; weights 1,2,3, 1,3 and 1×9,4 within ±20% of theirs', () => {
  const n = 60_000;
  const cases = [[[1, 1, 1, 1], 0.05], [[1, 2, 3], 0.2], [[1, 3], 0.2], [[1, 1, 1, 1, 1, 1, 1, 1, 1, 4], 0.2]] as const;
  for (const [w, tolerance] of cases) {
    for (const latency of [1, 5, 40]) {
      const counts = simulate(w, latency, n, 31);
      w.forEach((x, i) => {
        const expected = (n * x) / sum(w);
        assert.ok(Math.abs((counts[i] as number) - expected) <= expected * tolerance, `weights ${w}, ${latency} in flight: host ${i} got ${counts[i]}, expected ${expected.toFixed(0)}`);
      });
    }
  }
});

test('least request, weighted: a loaded heavy host loses to an idle light one', () => {
  const hs = hosts([1, 10]);
  setActive(hs[1]!, 50); // 5 per unit of weight, against 0
  const counts = tally(leastRequest.create(hs, opts(8)), 2, 10_000);
  // The heavy host wins only when drawn twice: (10/11)² of the picks.
  const p = (10 / 11) ** 2;
  assert.ok(Math.abs((counts[1] as number) - 10_000 * p) <= fiveSigma(10_000, p), `heavy host got ${counts[1]}`);
});

test('slow start: the minimum share first, then (elapsed/window)^(1/aggression), then 1', () => {
  const linear = { windowMs: 10_000, aggression: 1, minWeightPercent: 10 };
  assert.equal(slowStartFactor(1000, 1000, linear), 0.1);
  assert.equal(slowStartFactor(1000, 1500, linear), 0.1, '5% of the window is below the 10% floor');
  assert.equal(slowStartFactor(1000, 6000, linear), 0.5);
  assert.equal(slowStartFactor(1000, 11_000, linear), 1);
  assert.equal(slowStartFactor(1000, 50_000, linear), 1);
  assert.equal(slowStartFactor(5000, 1000, linear), 0.1, 'a host "since" the future has just started');
  const steep = { windowMs: 10_000, aggression: 2, minWeightPercent: 1 };
  assert.equal(slowStartFactor(0, 2500, steep), 0.5, 'aggression 2: the square root');
  assert.ok(slowStartFactor(0, 1, steep) > 0, 'never 0');
});

test('every policy by its config name: the factory says its name, one host is always 0, indices stay in range', () => {
  for (const [name, factory] of Object.entries(LB_POLICIES)) {
    assert.equal(factory.name, name);
    const one = factory.create(hosts([2]), opts(1));
    for (const h of [-1, 0, 123456, 0xffffffff]) assert.equal(one.pick(h), 0, `${name}`);
    const lb = factory.create(hosts([1, 2.5, 1, 4, 1]), opts(2, { maglevTableSize: 251, ringSize: 16 }));
    for (let i = 0; i < 1000; i++) {
      const k = lb.pick(i % 2 === 0 ? -1 : (i * 2654435761) >>> 0);
      assert.ok(Number.isInteger(k) && k >= 0 && k < 5, `${name} picked ${k}`);
    }
  }
});
