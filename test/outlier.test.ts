/*
 * Outlier detection's decisions (clusters/outlier/detector.ts), on an injected clock with
 * tick() called by hand: who is ejected, for how long, how many at once, and what the stats
 * and the log say about it.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { OutlierDetectionConfig } from '../src/config/types-cluster.js';
import { HOST_SLOTS, HostSlot, type OutlierState } from '../src/clusters/types.js';
import { OutlierDetector } from '../src/clusters/outlier/detector.js';
import { StatsRegion } from '../src/shm/index.js';
import type { LogFields, Logger } from '../src/log.js';
import { tempDir } from './helpers.js';

const BASE = 10_000;
const T0 = 1_800_000_000_000;

function config(over: Partial<OutlierDetectionConfig> = {}): OutlierDetectionConfig {
  return { consecutive5xx: 5, consecutiveGatewayFailure: 5, intervalMs: 1000, baseEjectionTimeMs: BASE, maxEjectionTimeMs: 300_000, maxEjectionPercent: 100, successRate: null, ...over };
}

interface Harness {
  detector: OutlierDetector;
  hosts: Map<string, Int32Array>;
  clock: { t: number };
  changes: [string, OutlierState][];
  lines: { level: string; msg: string; fields: LogFields | undefined }[];
  stat(name: string): number;
}

function harness(t: TestContext, cfg: OutlierDetectionConfig, count: number): Harness {
  const stats = StatsRegion.create(join(tempDir(t), 'stats'), { maxStats: 64, nameCapacity: 4096, dataCapacity: 4096 });
  const clock = { t: T0 };
  const changes: [string, OutlierState][] = [];
  const lines: Harness['lines'] = [];
  const line = (level: string) => (msg: string, fields?: LogFields) => void lines.push({ level, msg, fields });
  const log: Logger = { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') };
  const detector = new OutlierDetector(cfg, { stats, cluster: 'app', log, now: () => clock.t, onChange: (k, s) => void changes.push([k, s]) });
  const hosts = new Map<string, Int32Array>();
  for (let i = 0; i < count; i++) hosts.set(key(i), new Int32Array(new SharedArrayBuffer(HOST_SLOTS * 4)));
  detector.setHosts(hosts);
  const stat = (name: string): number => {
    const full = `cluster.app.outlier_detection.${name}`;
    return Number(name === 'ejections_active' ? stats.gauge(full).value() : stats.counter(full).value());
  };
  return { detector, hosts, clock, changes, lines, stat };
}

function key(i: number): string {
  return `127.0.0.1:${9000 + i}`;
}

const H0 = key(0);

test('a report ejects the host for baseEjectionTime, resets its runs, and counts and logs it', (t: TestContext) => {
  const h = harness(t, config(), 3);
  const c = h.hosts.get(H0)!;
  c[HostSlot.CONSECUTIVE_5XX] = 7;
  c[HostSlot.CONSECUTIVE_GATEWAY] = 5;
  h.detector.report(H0, 'consecutive5xx');
  const ejected = { ejected: true, ejectedUntil: T0 + BASE, ejections: 1, lastReason: 'consecutive5xx' };
  assert.deepEqual(h.detector.state(H0), ejected);
  assert.equal(h.detector.isEjected(H0), true);
  assert.equal(h.detector.isEjected(key(1)), false);
  assert.deepEqual(h.changes, [[H0, ejected]]);
  assert.deepEqual([c[HostSlot.CONSECUTIVE_5XX], c[HostSlot.CONSECUTIVE_GATEWAY]], [0, 0], 'the next full run is a new report');
  assert.deepEqual(h.lines, [{ level: 'warn', msg: 'outlier ejected', fields: { cluster: 'app', host: H0, reason: 'consecutive5xx', ms: BASE, ejections: 1 } }]);

  c[HostSlot.CONSECUTIVE_GATEWAY] = 5;
  h.detector.report(H0, 'consecutiveGatewayFailure');
  assert.equal(h.changes.length, 1, 'an ejected host is not ejected again');
  assert.equal(h.detector.state(H0).ejectedUntil, T0 + BASE);
  assert.equal(c[HostSlot.CONSECUTIVE_GATEWAY], 0);
  h.detector.report(key(1), 'consecutiveGatewayFailure');
  h.detector.report('10.0.0.9:1', 'consecutive5xx'); // a host removed since the worker posted
  assert.equal(h.stat('ejections_active'), 2);
  assert.equal(h.stat('ejections_enforced_total'), 2);
  assert.equal(h.stat('ejections_enforced_consecutive_5xx'), 1);
  assert.equal(h.stat('ejections_enforced_consecutive_gateway_failure'), 1);
  assert.equal(h.stat('ejections_overflow'), 0);
});

test('an ejection is lifted at the first tick at or after its end', (t: TestContext) => {
  const h = harness(t, config(), 3);
  h.detector.report(H0, 'consecutive5xx');
  h.clock.t = T0 + BASE - 1;
  h.detector.tick();
  assert.equal(h.detector.isEjected(H0), true);
  h.clock.t = T0 + BASE;
  h.detector.tick();
  assert.deepEqual(h.detector.state(H0), { ejected: false, ejectedUntil: 0, ejections: 1, lastReason: 'consecutive5xx' });
  assert.deepEqual(h.changes.map(([, s]) => s.ejected), [true, false]);
  assert.deepEqual(h.lines.at(-1), { level: 'info', msg: 'outlier ejection lifted', fields: { cluster: 'app', host: H0, ejections: 1 } });
  assert.equal(h.stat('ejections_active'), 0);
  h.detector.tick();
  assert.equal(h.changes.length, 2, 'lifted once');
});

test('each ejection lasts baseEjectionTime × its count, capped at maxEjectionTime', (t: TestContext) => {
  const h = harness(t, config({ maxEjectionTimeMs: 25_000 }), 3);
  const durations: number[] = [];
  for (let i = 0; i < 5; i++) {
    h.detector.report(H0, 'consecutive5xx');
    const { ejectedUntil } = h.detector.state(H0);
    durations.push(ejectedUntil - h.clock.t);
    h.clock.t = ejectedUntil;
    h.detector.tick(); // lifts; a lifting tick does not decay the count
  }
  assert.deepEqual(durations, [10_000, 20_000, 25_000, 25_000, 25_000]);
  assert.equal(h.detector.state(H0).ejections, 3, 'the count stops where the maximum is reached');
});

test('each interval a host spends not ejected lowers its ejection count by one', (t: TestContext) => {
  const h = harness(t, config(), 3);
  for (let i = 0; i < 3; i++) {
    h.detector.report(H0, 'consecutive5xx');
    h.clock.t = h.detector.state(H0).ejectedUntil;
    h.detector.tick();
  }
  assert.equal(h.detector.state(H0).ejections, 3);
  h.detector.tick();
  h.detector.tick();
  assert.equal(h.detector.state(H0).ejections, 1);
  h.detector.report(H0, 'consecutive5xx');
  assert.equal(h.detector.state(H0).ejectedUntil - h.clock.t, 2 * BASE, 'backed off from the decayed count');
  h.clock.t += 1000;
  h.detector.tick();
  assert.equal(h.detector.state(H0).ejections, 2, 'no decay while ejected');
  h.clock.t = h.detector.state(H0).ejectedUntil;
  for (let i = 0; i < 4; i++) h.detector.tick();
  assert.equal(h.detector.state(H0).ejections, 0, 'never below 0');
  h.detector.report(H0, 'consecutive5xx');
  assert.equal(h.detector.state(H0).ejectedUntil - h.clock.t, BASE);
});

test('cap: 3 hosts at 10% may still lose one; a second is overflow until the first returns', (t: TestContext) => {
  const h = harness(t, config({ maxEjectionPercent: 10 }), 3);
  h.detector.report(H0, 'consecutive5xx');
  const c1 = h.hosts.get(key(1))!;
  c1[HostSlot.CONSECUTIVE_5XX] = 5;
  h.detector.report(key(1), 'consecutive5xx');
  assert.equal(h.detector.isEjected(key(1)), false);
  assert.equal(c1[HostSlot.CONSECUTIVE_5XX], 0, 'a refused report also starts the run over');
  assert.equal(h.stat('ejections_overflow'), 1);
  assert.equal(h.stat('ejections_active'), 1);
  h.clock.t += BASE;
  h.detector.tick();
  h.detector.report(key(1), 'consecutive5xx');
  assert.equal(h.detector.isEjected(key(1)), true);
  assert.equal(h.stat('ejections_enforced_total'), 2);
});

test('cap: 10 hosts at 50% lose at most 5, and 3 hosts at most 1', (t: TestContext) => {
  const h = harness(t, config({ maxEjectionPercent: 50 }), 10);
  for (const k of h.hosts.keys()) h.detector.report(k, 'consecutiveGatewayFailure');
  assert.equal([...h.detector.states().values()].filter((s) => s.ejected).length, 5);
  assert.equal(h.stat('ejections_active'), 5);
  assert.equal(h.stat('ejections_overflow'), 5);
  const odd = harness(t, config({ maxEjectionPercent: 50 }), 3);
  for (const k of odd.hosts.keys()) odd.detector.report(k, 'consecutive5xx');
  assert.equal(odd.stat('ejections_active'), 1, '"at most 50%" of 3 hosts is 1: two would be 67%');
});

test('a removed host is forgotten: it no longer holds a place in the cap nor counts in the cluster size', (t: TestContext) => {
  const h = harness(t, config({ maxEjectionPercent: 20 }), 10);
  h.detector.report(key(0), 'consecutive5xx');
  h.detector.report(key(1), 'consecutive5xx');
  assert.equal(h.stat('ejections_active'), 2, '20% of 10');
  const five = new Map([...h.hosts].slice(0, 5));
  h.detector.setHosts(five);
  h.detector.report(key(2), 'consecutive5xx');
  assert.equal(h.detector.isEjected(key(2)), false, '20% of 5 is one host, and two are out');
  assert.equal(h.stat('ejections_overflow'), 1);
  h.detector.setHosts(new Map([...h.hosts].slice(1, 5)));
  assert.equal(h.stat('ejections_active'), 1);
  assert.deepEqual([...h.detector.states().keys()], [key(1), key(2), key(3), key(4)]);
  assert.equal(h.detector.state(key(0)).ejected, false, 'forgotten');
  h.detector.setHosts(new Map([...h.hosts].slice(2, 5)));
  h.detector.report(key(2), 'consecutive5xx');
  assert.equal(h.detector.isEjected(key(2)), true, 'the place of the removed ejected host is free');
});

test('handed-over state: an ejection that has not ended stays until its end; the count carries over', (t: TestContext) => {
  const h = harness(t, config(), 0);
  const fresh = new Map([...Array(3).keys()].map((i) => [key(i), new Int32Array(new SharedArrayBuffer(HOST_SLOTS * 4))]));
  const handed = new Map<string, OutlierState>([
    [key(0), { ejected: true, ejectedUntil: T0 + 5000, ejections: 2, lastReason: 'consecutiveGatewayFailure' }],
    [key(1), { ejected: true, ejectedUntil: T0 - 1, ejections: 1, lastReason: 'successRate' }],
  ]);
  h.detector.setHosts(fresh, handed);
  assert.deepEqual(h.detector.state(key(0)), handed.get(key(0)));
  assert.deepEqual(h.detector.state(key(1)), { ejected: false, ejectedUntil: 0, ejections: 1, lastReason: 'successRate' }, 'its time was up');
  assert.deepEqual(h.detector.state(key(2)), { ejected: false, ejectedUntil: 0, ejections: 0, lastReason: null });
  assert.equal(h.stat('ejections_active'), 1);
  assert.equal(h.changes.length, 0, 'the initial state is read, not announced');
  h.clock.t = T0 + 4999;
  h.detector.tick();
  assert.equal(h.detector.isEjected(key(0)), true);
  h.clock.t = T0 + 5000;
  h.detector.tick();
  assert.equal(h.detector.isEjected(key(0)), false);
  assert.deepEqual(h.changes.map(([k, s]) => [k, s.ejected]), [[key(0), false]]);
  h.detector.report(key(0), 'consecutive5xx');
  assert.equal(h.detector.state(key(0)).ejectedUntil - h.clock.t, 3 * BASE, 'third ejection');
  h.detector.setHosts(fresh, new Map([[key(0), { ejected: false, ejectedUntil: 0, ejections: 0, lastReason: null }]]));
  assert.equal(h.detector.isEjected(key(0)), true, 'a handover applies to new hosts only');
});

/** Gives each host an interval's requests and successes. */
function traffic(h: Harness, perHost: readonly [number, number][]): void {
  perHost.forEach(([requests, successes], i) => {
    const c = h.hosts.get(key(i))!;
    c[HostSlot.REQUESTS] = requests;
    c[HostSlot.SUCCESSES] = successes;
  });
}

const successRate = { minimumHosts: 5, requestVolume: 100, stdevFactor: 1.9 };

test('success rate: a clear outlier among 6 hosts is ejected, and the interval counts start over', (t: TestContext) => {
  const h = harness(t, config({ successRate }), 6);
  traffic(h, [[200, 198], [200, 199], [200, 198], [200, 200], [200, 198], [200, 100]]);
  h.detector.tick();
  assert.deepEqual([...h.detector.states()].filter(([, s]) => s.ejected).map(([k, s]) => [k, s.lastReason]), [[key(5), 'successRate']]);
  assert.equal(h.stat('ejections_enforced_success_rate'), 1);
  assert.equal(h.stat('ejections_enforced_total'), 1);
  for (const c of h.hosts.values()) assert.deepEqual([c[HostSlot.REQUESTS], c[HostSlot.SUCCESSES]], [0, 0]);
  h.detector.tick();
  assert.equal(h.stat('ejections_enforced_total'), 1, 'an interval with no traffic judges nobody');
  const until = h.detector.state(key(5)).ejectedUntil;
  traffic(h, [[200, 198], [200, 199], [200, 198], [200, 200], [200, 198], [200, 20]]);
  h.detector.tick();
  assert.equal(h.stat('ejections_enforced_total'), 1, 'an ejected host that still takes traffic (panic) is not judged');
  assert.equal(h.detector.state(key(5)).ejectedUntil, until);
});

test('success rate: equal rates, too few requests or too few hosts eject nobody', (t: TestContext) => {
  const h = harness(t, config({ successRate }), 6);
  traffic(h, Array<[number, number]>(6).fill([300, 270]));
  h.detector.tick();
  // 95/100 six times averages to an ulp above 95/100, and a small factor puts the threshold there too.
  const close = harness(t, config({ successRate: { ...successRate, stdevFactor: 0.1 } }), 6);
  traffic(close, Array<[number, number]>(6).fill([100, 95]));
  close.detector.tick();
  assert.equal(close.stat('ejections_enforced_total'), 0);
  traffic(h, [[200, 200], [200, 200], [200, 200], [200, 200], [200, 200], [99, 0]]);
  h.detector.tick();
  assert.equal(h.stat('ejections_enforced_total'), 0, 'a host below requestVolume is not judged');
  traffic(h, [[200, 200], [200, 200], [200, 200], [200, 0], [99, 99], [50, 50]]);
  h.detector.tick();
  assert.equal(h.stat('ejections_enforced_total'), 0, 'with 4 hosts judged (minimumHosts 5), nobody is an outlier');
});

test('success rate respects the cap', (t: TestContext) => {
  const h = harness(t, config({ successRate: { ...successRate, stdevFactor: 1 }, maxEjectionPercent: 10 }), 6);
  traffic(h, [[200, 198], [200, 198], [200, 198], [200, 198], [200, 100], [200, 100]]);
  h.detector.tick();
  assert.deepEqual([...h.detector.states()].filter(([, s]) => s.ejected).map(([k]) => k), [key(4)]);
  assert.equal(h.stat('ejections_overflow'), 1);
});

test('start() ticks on its own timer until stop()', { timeout: 10_000 }, async (t: TestContext) => {
  const cfg = config({ intervalMs: 10, baseEjectionTimeMs: 1 });
  const stats = StatsRegion.create(join(tempDir(t), 'stats'), { maxStats: 64, nameCapacity: 4096, dataCapacity: 4096 });
  let lifted: () => void = () => {};
  const done = new Promise<void>((resolve) => (lifted = resolve));
  const log: Logger = { debug() {}, info() {}, warn() {}, error() {} };
  const detector = new OutlierDetector(cfg, { stats, cluster: 'app', log, onChange: (_k, s) => void (s.ejected || lifted()) });
  detector.setHosts(new Map([[H0, new Int32Array(new SharedArrayBuffer(HOST_SLOTS * 4))]]));
  detector.report(H0, 'consecutive5xx');
  detector.start();
  t.after(() => detector.stop());
  await done;
  assert.equal(detector.isEjected(H0), false);
});
