/*
 * The worker side of outlier detection: how one try's outcome moves a host's shared counters,
 * and that the worker whose update reaches a threshold (and only that one) is told so.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { HOST_SLOTS, HostSlot } from '../src/clusters/types.js';
import { LOCAL_CONNECT_FAILURE, LOCAL_RESET, LOCAL_TIMEOUT, recordOutcome, type OutlierThresholds } from '../src/proxy/upstream/outlier-record.js';
import { fixture } from './helpers.js';

function slots(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(HOST_SLOTS * 4));
}

/** Records each status in turn and returns what each call returned. */
function run(counters: Int32Array, statuses: readonly number[], cfg: OutlierThresholds): (string | null)[] {
  return statuses.map((s) => recordOutcome(counters, s, cfg));
}

test('consecutive5xx: reported once, by the call that reaches the threshold', () => {
  const c = slots();
  const seen = run(c, Array<number>(10).fill(500), { consecutive5xx: 5, consecutiveGatewayFailure: 0 });
  assert.deepEqual(seen, [null, null, null, null, 'consecutive5xx', null, null, null, null, null]);
  assert.equal(c[HostSlot.CONSECUTIVE_5XX], 10);
  assert.equal(c[HostSlot.CONSECUTIVE_GATEWAY], 0, 'a detector turned off (0) counts nothing');
  assert.equal(c[HostSlot.REQUESTS], 10);
  assert.equal(c[HostSlot.SUCCESSES], 0);
});

test('a response below 500 ends both runs and counts as a success', () => {
  const c = slots();
  const cfg = { consecutive5xx: 5, consecutiveGatewayFailure: 5 };
  assert.deepEqual(run(c, [503, 503, 503, 503, 404], cfg), [null, null, null, null, null]);
  assert.equal(c[HostSlot.CONSECUTIVE_5XX], 0);
  assert.equal(c[HostSlot.CONSECUTIVE_GATEWAY], 0);
  assert.deepEqual(run(c, [500, 500, 500, 500], cfg), [null, null, null, null], 'the run starts again from 0');
  assert.equal(recordOutcome(c, 500, cfg), 'consecutive5xx');
  assert.equal(c[HostSlot.REQUESTS], 10);
  assert.equal(c[HostSlot.SUCCESSES], 1);
});

test('gateway failures are 502, 503 and 504; another 5xx ends their run but not the 5xx run', () => {
  const c = slots();
  const cfg = { consecutive5xx: 10, consecutiveGatewayFailure: 3 };
  assert.deepEqual(run(c, [503, 502, 500], cfg), [null, null, null]);
  assert.equal(c[HostSlot.CONSECUTIVE_GATEWAY], 0, '500 is not a gateway failure');
  assert.equal(c[HostSlot.CONSECUTIVE_5XX], 3);
  assert.deepEqual(run(c, [502, 503, 504], cfg), [null, null, 'consecutiveGatewayFailure']);
  assert.equal(c[HostSlot.CONSECUTIVE_5XX], 6);
  assert.deepEqual(run(c, [501, 503, 503, 503], cfg), [null, null, null, 'consecutive5xx'], '501 restarted the gateway run: both reach their thresholds on the last call');
});

test('when both runs reach their thresholds at once, consecutive5xx is reported', () => {
  const c = slots();
  assert.deepEqual(run(c, [503, 503, 503], { consecutive5xx: 3, consecutiveGatewayFailure: 3 }), [null, null, 'consecutive5xx']);
  assert.equal(c[HostSlot.CONSECUTIVE_GATEWAY], 3);
});

test('a gateway run reaching its threshold after the 5xx run reached its own is not reported again', () => {
  const c = slots();
  const cfg = { consecutive5xx: 3, consecutiveGatewayFailure: 5 };
  assert.deepEqual(run(c, [503, 503, 503, 503, 503, 503], cfg), [null, null, 'consecutive5xx', null, null, null]);
  assert.equal(c[HostSlot.CONSECUTIVE_GATEWAY], 6);
  // The main thread handled the 5xx report: both runs start over.
  c[HostSlot.CONSECUTIVE_5XX] = 0;
  c[HostSlot.CONSECUTIVE_GATEWAY] = 0;
  assert.deepEqual(run(c, [500, 500, 503, 503, 503, 503, 503], cfg), [null, null, 'consecutive5xx', null, null, null, null]);
  assert.equal(c[HostSlot.CONSECUTIVE_GATEWAY], 5, 'the gateway run reached 5 with the 5xx run at 7, already reported');
});

test('local failures (connect, reset, timeout) count as 503: a 5xx and a gateway failure', () => {
  const c = slots();
  const seen = run(c, [LOCAL_CONNECT_FAILURE, LOCAL_RESET, LOCAL_TIMEOUT, LOCAL_CONNECT_FAILURE], { consecutive5xx: 4, consecutiveGatewayFailure: 3 });
  assert.deepEqual(seen, [null, null, 'consecutiveGatewayFailure', 'consecutive5xx']);
  assert.equal(c[HostSlot.REQUESTS], 4);
  assert.equal(c[HostSlot.SUCCESSES], 0);
});

test('without outlier detection nothing is recorded', () => {
  const c = slots();
  for (const s of [200, 503, LOCAL_RESET, 500]) assert.equal(recordOutcome(c, s, null), null);
  assert.deepEqual([...c], [0, 0, 0, 0, 0]);
});

test('successes on a healthy host write no consecutive slot (they stay shared in every cache)', (t: TestContext) => {
  const c = slots();
  const cfg = { consecutive5xx: 5, consecutiveGatewayFailure: 5 };
  const store = t.mock.method(Atomics, 'store');
  run(c, Array<number>(100).fill(200), cfg);
  assert.equal(store.mock.callCount(), 0, 'slots already 0 are only read');
  run(c, [503, 200], cfg);
  assert.equal(store.mock.callCount(), 2, 'a success after a failure resets both runs');
  run(c, [500, 500], cfg);
  assert.equal(store.mock.callCount(), 2, 'a non-gateway 5xx with the gateway run at 0 writes nothing either');
  assert.equal(c[HostSlot.SUCCESSES], 101);
});

test('two workers calling on one host share one run: the update that reaches it reports', () => {
  const host = slots();
  const cfg = { consecutive5xx: 4, consecutiveGatewayFailure: 0 };
  // Two callers interleaved on the same counters, as two worker threads are.
  const a = (s: number): string | null => recordOutcome(host, s, cfg);
  const b = (s: number): string | null => recordOutcome(host, s, cfg);
  assert.deepEqual([a(500), b(500), a(500), b(500), a(500)], [null, null, null, 'consecutive5xx', null]);
  assert.equal(a(200), null);
  assert.deepEqual([b(500), b(500), b(500)], [null, null, null], "a's success ended b's run");
  assert.equal(a(500), 'consecutive5xx');
});

test('two worker threads racing on one host cross the threshold exactly once', { timeout: 60_000 }, async (t: TestContext) => {
  const counters = new SharedArrayBuffer(HOST_SLOTS * 4);
  const start = new Int32Array(new SharedArrayBuffer(4));
  const calls = 200_000;
  // The threshold falls past what one thread does alone, so both are running when it is reached.
  const job = { counters, start, calls, status: 503, cfg: { consecutive5xx: 300_000, consecutiveGatewayFailure: 300_000 } };
  const workers = [0, 1].map(() => new Worker(fixture('outlier-record-worker'), { workerData: job }));
  t.after(() => Promise.all(workers.map((w) => w.terminate())));
  const results = workers.map((w) => {
    const ready = once(w, 'message');
    const done = ready.then(() => once(w, 'message'));
    w.once('error', (err) => assert.fail(err));
    return { ready, done };
  });
  await Promise.all(results.map((r) => r.ready));
  Atomics.store(start, 0, 1);
  Atomics.notify(start, 0);
  const crossed = (await Promise.all(results.map((r) => r.done))).flatMap(([m]) => m as string[]);
  // Both runs reach 300000, but the gateway run can only get there after the 5xx run did.
  assert.deepEqual(crossed, ['consecutive5xx'], 'one report in 400000 updates, from whichever thread reached 300000');
  const c = new Int32Array(counters);
  assert.equal(c[HostSlot.REQUESTS], 2 * calls, 'no update was lost');
  assert.equal(c[HostSlot.CONSECUTIVE_5XX], 2 * calls);
  assert.equal(c[HostSlot.CONSECUTIVE_GATEWAY], 2 * calls);
});
