/**
 * The hash and the policies that use it: murmur3 (known answers, UTF-8, spread), ring hash and
 * Maglev (stickiness, what a membership change moves, weights, and picks without a hash key).
 * Every bound is stated in the test name.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hash32, maglev, murmur3, ringHash, type LbHost, type LoadBalancer, type LoadBalancerFactory } from '../src/proxy/lb/index.js';
import { fiveSigma, hosts, opts, tally } from './fixtures/lb-util.js';

/** MurmurHash3 x86_32 over bytes, written plainly from the algorithm: the reference for the string version. */
function murmur3Bytes(b: Uint8Array, seed: number): number {
  const mix = (k: number): number => Math.imul(((Math.imul(k, 0xcc9e2d51) << 15) | (Math.imul(k, 0xcc9e2d51) >>> 17)), 0x1b873593);
  let h = seed | 0;
  const blocks = b.length & ~3;
  for (let i = 0; i < blocks; i += 4) {
    h ^= mix((b[i] as number) | ((b[i + 1] as number) << 8) | ((b[i + 2] as number) << 16) | ((b[i + 3] as number) << 24));
    h = (Math.imul((h << 13) | (h >>> 19), 5) + 0xe6546b64) | 0;
  }
  let k = 0;
  for (let i = b.length - 1; i >= blocks; i--) k = (k << 8) | (b[i] as number);
  if (b.length & 3) h ^= mix(k);
  h ^= b.length;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

test('murmur3: the known answers MurmurHash3 ports are checked against', () => {
  const vectors: [string, number, number][] = [
    ['', 0, 0],
    ['', 1, 0x514e28b7],
    ['', 0xffffffff, 0x81f16f39],
    ['test', 0, 0xba6bd213],
    ['a', 0x9747b28c, 0x7fa09ea6],
    ['abcd', 0x9747b28c, 0xf0478627],
    ['aaaa', 0x9747b28c, 0x5a97808a],
    ['Hello, world!', 0x9747b28c, 0x24884cba],
    ['The quick brown fox jumps over the lazy dog', 0x9747b28c, 0x2fa826cd],
  ];
  for (const [s, seed, want] of vectors) {
    assert.equal(murmur3(s, seed), want, `${JSON.stringify(s)} seed ${seed.toString(16)}`);
    assert.equal(murmur3Bytes(Buffer.from(s), seed), want, `reference: ${JSON.stringify(s)}`);
  }
  assert.equal(hash32('test'), 0xba6bd213, 'hash32 is seed 0');
  assert.equal(hash32('Hello, world!'), 0xc0363e43);
});

test('murmur3 hashes the UTF-8 bytes: 2-, 3- and 4-byte characters and lone surrogates as Buffer encodes them', () => {
  const strings = ['é', 'café', '€', '中文字符', '😀', 'a😀b', 'x\ud800', '\udc00y', '\ud800\ud800', 'k=\u00ff\u07ff\u0800\uffff', 'user-ünïcødé-42'];
  for (const s of strings) for (const seed of [0, 0x9747b28c]) assert.equal(murmur3(s, seed), murmur3Bytes(Buffer.from(s, 'utf8'), seed), `${JSON.stringify(s)} seed ${seed}`);
  assert.notEqual(hash32('é'), hash32('\u00c3\u00a9'), 'the UTF-8 of é is not the string of its bytes');
});

/** Pearson's chi-square of `counts` against a uniform spread. */
function chiSquare(counts: readonly number[]): number {
  const total = counts.reduce((a, b) => a + b, 0);
  const e = total / counts.length;
  return counts.reduce((x, c) => x + (c - e) ** 2 / e, 0);
}

test('hash32 spreads similar keys: chi-square of 65 536 IPs over 256 buckets, low and high bits, under 255 + 6·√510; one changed character flips 16 ± 1 bits on average', () => {
  const low = new Array<number>(256).fill(0);
  const high = new Array<number>(256).fill(0);
  let flipped = 0;
  for (let i = 0; i < 65_536; i++) {
    const h = hash32(`10.${i >> 8}.${i & 255}.1`);
    low[h & 255]! += 1;
    high[h >>> 24]! += 1;
    const d = h ^ hash32(`10.${i >> 8}.${i & 255}.3`);
    for (let x = d; x !== 0; x &= x - 1) flipped++;
  }
  const bound = 255 + 6 * Math.sqrt(510);
  assert.ok(chiSquare(low) < bound, `low byte: ${chiSquare(low)}`);
  assert.ok(chiSquare(high) < bound, `high byte: ${chiSquare(high)}`);
  assert.ok(Math.abs(flipped / 65_536 - 16) < 1, `bits flipped: ${flipped / 65_536}`);
});

const KEYS = Array.from({ length: 10_000 }, (_, i) => hash32(`user-${i}`));

/** For each key, the host key it lands on. */
function placement(f: LoadBalancerFactory, hs: readonly LbHost[], seed: number): string[] {
  const lb = f.create(hs, opts(seed));
  return KEYS.map((k) => (hs[lb.pick(k)] as LbHost).key);
}

for (const f of [ringHash, maglev]) {
  test(`${f.name}: the same hash goes to the same host, whatever the policy's random source and however often`, () => {
    const hs = hosts([1, 1, 1, 1, 1]);
    assert.deepEqual(placement(f, hs, 1), placement(f, hs, 2));
    const lb = f.create(hs, opts(3));
    for (const k of KEYS.slice(0, 100)) assert.equal(lb.pick(k), lb.pick(k));
    // Placement follows the host's key, not its index.
    const reversed = [...hs].reverse();
    const a = placement(f, hs, 1);
    const b = placement(f, reversed, 1);
    const same = a.filter((key, i) => key === b[i]).length;
    assert.ok(same >= KEYS.length * 0.99, `reordering the hosts kept ${same} of ${KEYS.length}`);
  });

  test(`${f.name}: without a hash key (-1), each host is picked within 5 sigmas of its share of the hash space over 30 000 picks`, () => {
    const lb = f.create(hosts([1, 1, 2]), opts(4));
    // The share of the hash space, from 2^20 evenly spaced hashes.
    const space = tally(lb, 3, 1 << 20, (i) => i * 4096 + 2048);
    const n = 30_000;
    const random = tally(lb, 3, n);
    space.forEach((c, i) => {
      const p = c / (1 << 20);
      assert.ok(Math.abs((random[i] as number) - n * p) <= fiveSigma(n, p), `host ${i}: ${random[i]} random picks for a share of ${p}`);
    });
  });
}

function moves(f: LoadBalancerFactory, before: readonly LbHost[], after: readonly LbHost[]): { moved: number; between: number } {
  const a = placement(f, before, 1);
  const b = placement(f, after, 1);
  const afterKeys = new Set(after.map((h) => h.key));
  const stayed = new Set(before.map((h) => h.key).filter((k) => afterKeys.has(k)));
  let moved = 0;
  let between = 0;
  a.forEach((key, i) => {
    if (key === b[i]) return;
    moved++;
    if (stayed.has(key) && stayed.has(b[i] as string)) between++;
  });
  return { moved, between };
}

const TEN = hosts(new Array<number>(10).fill(1));
const ELEVEN = [...TEN, ...hosts([1], 11)];
const share = (n: number): number => n / KEYS.length;

/*
 * Ring hash, 1024 points a host: a host's share of the ring has a relative spread of about
 * 1/√1024 ≈ 3%, and 10 000 keys add about 3.3%: ±20% is some 4 sigmas of both together.
 */
test('ringHash: adding an 11th host moves between 0.8/11 and 1.2/11 of 10 000 keys, every one of them to the new host', () => {
  const { moved, between } = moves(ringHash, TEN, ELEVEN);
  assert.ok(share(moved) >= 0.8 / 11 && share(moved) <= 1.2 / 11, `moved ${moved}`);
  assert.equal(between, 0, 'no key moves between the hosts that were there');
});

test('ringHash: removing a host moves exactly its keys', () => {
  const without = ELEVEN.filter((_, i) => i !== 3);
  const { moved, between } = moves(ringHash, ELEVEN, without);
  assert.equal(between, 0);
  assert.equal(moved, placement(ringHash, ELEVEN, 1).filter((k) => k === (ELEVEN[3] as LbHost).key).length);
});

/*
 * Maglev: the new host takes M/11 slots (±1), so its share of 10 000 keys is within ~3.3% a
 * sigma; the hosts that stayed also trade a few slots, since they fill in a new order.
 */
test('maglev: adding an 11th host moves between 0.85/11 and 1.3/11 of 10 000 keys; under 1% move between the hosts that were there', () => {
  const { moved, between } = moves(maglev, TEN, ELEVEN);
  assert.ok(share(moved) >= 0.85 / 11 && share(moved) <= 1.3 / 11, `moved ${moved}`);
  assert.ok(share(between) < 0.01, `between old hosts: ${between}`);
});

test('maglev: removing a host moves its keys and under 1% of the others\'', () => {
  const without = ELEVEN.filter((_, i) => i !== 3);
  const { moved, between } = moves(maglev, ELEVEN, without);
  const own = placement(maglev, ELEVEN, 1).filter((k) => k === (ELEVEN[3] as LbHost).key).length;
  assert.ok(share(between) < 0.01, `others moved: ${between}`);
  assert.equal(moved, own + between);
});

/** Hosts' shares of all of a Maglev table (size 65537): one pick per slot. */
function slots(lb: LoadBalancer, n: number): number[] {
  return tally(lb, n, 65_537, (i) => i);
}

test('maglev: equal hosts hold table slots within 1 of each other; weights 1,2,3 hold 1/6, 2/6, 3/6 of the slots within 0.1%', () => {
  const equal = slots(maglev.create(hosts(new Array<number>(7).fill(1)), opts(1)), 7);
  assert.ok(Math.max(...equal) - Math.min(...equal) <= 1, `${equal}`);
  const weighted = slots(maglev.create(hosts([1, 2, 3]), opts(1)), 3);
  [1, 2, 3].forEach((w, i) => {
    assert.ok(Math.abs((weighted[i] as number) / 65_537 - w / 6) < 0.001, `weight ${w}: ${weighted[i]} slots`);
  });
  // Half the weight of the others: half their slots, near enough.
  const ramp = slots(maglev.create(hosts([1, 1, 0.5]), opts(1)), 3);
  assert.ok(Math.abs((ramp[2] as number) / 65_537 - 0.2) < 0.001, `weight 0.5: ${ramp[2]} slots`);
});

test('ringHash: weights 1,2,3 take 1/6, 2/6, 3/6 of 10 000 keys within ±12%; doubling one of 4 hosts\' weight takes its share from 1/4 to about 2/5 (×1.3..×1.9)', () => {
  const w = [1, 2, 3];
  const counts = tally(ringHash.create(hosts(w), opts(1)), 3, KEYS.length, (i) => KEYS[i] as number);
  w.forEach((x, i) => {
    const expected = (KEYS.length * x) / 6;
    assert.ok(Math.abs((counts[i] as number) - expected) <= expected * 0.12, `weight ${x}: ${counts[i]} keys`);
  });
  const before = tally(ringHash.create(hosts([1, 1, 1, 1]), opts(1)), 4, KEYS.length, (i) => KEYS[i] as number)[0] as number;
  const after = tally(ringHash.create(hosts([2, 1, 1, 1]), opts(1)), 4, KEYS.length, (i) => KEYS[i] as number)[0] as number;
  // Expected 1/4 → 2/5 of the keys: ×1.6 in share, ×2 in ring points.
  assert.ok(after / before >= 1.3 && after / before <= 1.9, `share of the doubled host: ${before} → ${after}`);
});
