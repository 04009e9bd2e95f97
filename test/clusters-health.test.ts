/**
 * Acceptance, on `proxyctl start` with real backend processes under load: a host that dies is
 * taken out of rotation by passive outlier detection within a few failed requests, and by
 * active health checks within their thresholds; with retries on connect failures and gateway
 * errors no GET fails meanwhile; the host is back once it is healthy again. A reload hands the
 * health and outlier state over, so the new epoch does not send to a host the old one ejected.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { HttpLoad, servedBy } from './fixtures/load.js';
import { clusterConfig, eventually, freePort, readStat, startBackendProcess, startProxyctl, type BackendProcess, type Instance } from './fixtures/supervisor-util.js';
import { delay } from './fixtures/proxy-util.js';

/** Backends a, b and c (processes), and proxyctl in front of them with `keys` for cluster `app`. */
async function threeBackends(t: TestContext, keys: string[]): Promise<{ c: BackendProcess; port: number; inst: Instance }> {
  const [a, b, c] = await Promise.all([startBackendProcess(t, 'a'), startBackendProcess(t, 'b'), startBackendProcess(t, 'c')]);
  const port = await freePort();
  const inst = await startProxyctl(t, clusterConfig({ port, cluster: [`endpoints: [127.0.0.1:${a.port}, 127.0.0.1:${b.port}, 127.0.0.1:${c.port}]`, ...keys] }));
  return { c, port, inst };
}

/**
 * The stat once it has not moved for 300 ms. The ejection is counted on the main thread before
 * the workers have the membership without the host, so a try already picked can still fail.
 */
async function settled(inst: Instance, name: string): Promise<bigint> {
  for (let last = readStat(inst, name); ; ) {
    await delay(300);
    const now = readStat(inst, name);
    if (now === last) return now;
    last = now;
  }
}

/** Load on `port` until each of a, b and c has answered. */
async function loadOnAll(t: TestContext, port: number): Promise<HttpLoad> {
  const load = HttpLoad.start(t, port, { keepAlive: 4, perRequest: 2 });
  await eventually(() => ['a', 'b', 'c'].every((n) => servedBy(load.result, n) > 0), 5_000, 'all three take traffic');
  return load;
}

test('passive: a killed host is ejected after a few failed requests, no GET fails, and it is back when the ejection ends', async (t) => {
  const { c, port, inst } = await threeBackends(t, [
    'outlierDetection: { consecutive5xx: 0, consecutiveGatewayFailure: 3, interval: 200ms, baseEjectionTime: 2s, maxEjectionPercent: 50 }',
    // The moment c dies, its in-flight requests and stale keep-alive connections can need
    // more retries at once than Envoy's default of 3 allows (seen: 2 overflowed, 503).
    'circuitBreakers: { maxRetries: 50 }',
  ]);
  const load = await loadOnAll(t, port);
  await c.kill();
  await eventually(() => readStat(inst, 'cluster.app.outlier_detection.ejections_active') === 1n, 3_000, 'c ejected');
  assert.equal(readStat(inst, 'cluster.app.outlier_detection.ejections_enforced_consecutive_gateway_failure'), 1n);
  const failedTries = await settled(inst, 'cluster.app.upstream_cx_connect_fail');
  // Threshold 3, plus what was in flight on 2 workers and 6 client loops when the ejection landed.
  assert.ok(failedTries <= 20n, `${failedTries} connect failures before the ejection`);
  await delay(300);
  assert.equal(readStat(inst, 'cluster.app.upstream_cx_connect_fail'), failedTries, 'an ejected host gets no request');
  const before = servedBy(load.result, 'c');
  await startBackendProcess(t, 'c', c.port);
  await eventually(() => servedBy(load.result, 'c') > before, 6_000, 'c takes traffic again after its ejection');
  const result = await load.stop();
  assert.deepEqual(result.failures, [], `retry overflow ${readStat(inst, 'cluster.app.upstream_rq_retry_overflow')}, retries ${readStat(inst, 'cluster.app.upstream_rq_retry')}, 503 ${readStat(inst, 'cluster.app.upstream_rq_503')}`);
});

test('active: a killed host is marked unhealthy within the thresholds, no GET fails, and it takes traffic again once it passes', async (t) => {
  const { c, port, inst } = await threeBackends(t, [
    'healthCheck: { http: { path: /healthz }, interval: 200ms, intervalJitter: 0ms, timeout: 300ms, unhealthyThreshold: 2, healthyThreshold: 2 }',
    // Until the checks take c out, a third of the requests are retried: more than Envoy's default of 3 at once.
    'circuitBreakers: { maxRetries: 50 }',
  ]);
  assert.equal(readStat(inst, 'cluster.app.membership_healthy'), 3n, 'the first round passed before ready');
  const load = await loadOnAll(t, port);
  const failuresBefore = readStat(inst, 'cluster.app.health_check.failure');
  await c.kill();
  await eventually(() => readStat(inst, 'cluster.app.membership_healthy') === 2n, 5_000, 'c out of rotation');
  assert.ok(readStat(inst, 'cluster.app.health_check.failure') - failuresBefore >= 2n, 'two failed checks in a row, not one');
  const served = servedBy(load.result, 'c');
  await delay(300);
  assert.equal(servedBy(load.result, 'c'), served);
  await startBackendProcess(t, 'c', c.port);
  await eventually(() => readStat(inst, 'cluster.app.membership_healthy') === 3n, 5_000, 'c healthy again');
  await eventually(() => servedBy(load.result, 'c') > served, 3_000, 'c takes traffic again');
  const result = await load.stop();
  assert.deepEqual(result.failures, []);
  assert.equal(readStat(inst, 'cluster.app.upstream_rq_retry_overflow'), 0n);
});

test('a reload under load while a host is ejected: the new epoch starts with it ejected and sends it nothing', async (t) => {
  const [a, b] = await Promise.all([startBackendProcess(t, 'a'), startBackendProcess(t, 'b')]);
  const dead = await freePort();
  const port = await freePort();
  const inst = await startProxyctl(
    t,
    clusterConfig({
      port,
      cluster: [
        `endpoints: [127.0.0.1:${a.port}, 127.0.0.1:${b.port}, 127.0.0.1:${dead}]`,
        'outlierDetection: { consecutiveGatewayFailure: 2, interval: 200ms, baseEjectionTime: 30s, maxEjectionPercent: 50 }',
      ],
    }),
  );
  const load = HttpLoad.start(t, port, { keepAlive: 3, perRequest: 1 });
  await eventually(() => readStat(inst, 'cluster.app.outlier_detection.ejections_active') === 1n, 5_000, 'the dead host ejected');
  const failedTries = await settled(inst, 'cluster.app.upstream_cx_connect_fail');
  for (let i = 0; i < 2; i++) {
    const r = await inst.cli(['reload', '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    await delay(300);
  }
  assert.equal(readStat(inst, 'cluster.app.upstream_cx_connect_fail'), failedTries, 'no epoch sent a request to the ejected host');
  const result = await load.stop();
  assert.deepEqual(result.failures, []);
  assert.ok(result.responses > 50, `only ${result.responses} responses`);
});

/** 10 requests at once to a backend that answers after 1 s: when each 503 and each 200 came. */
async function tenAtOnce(port: number): Promise<{ refused: number[]; served: number[] }> {
  const started = Date.now();
  const answers = await Promise.all(
    Array.from({ length: 10 }, async () => {
      const res = await fetch(`http://127.0.0.1:${port}/?delay=1000`);
      await res.arrayBuffer();
      return { status: res.status, at: Date.now() - started };
    }),
  );
  return { refused: answers.filter((x) => x.status === 503).map((x) => x.at), served: answers.filter((x) => x.status === 200).map((x) => x.at) };
}

test('circuit breakers: past maxRequests (over both workers) the client gets 503 at once, and the overflow counter matches', async (t) => {
  const slow = await startBackendProcess(t, 'slow');
  const port = await freePort();
  const inst = await startProxyctl(t, clusterConfig({ port, workers: 2, route: ['timeout: 10s'], cluster: [`endpoints: [127.0.0.1:${slow.port}]`, 'circuitBreakers: { maxRequests: 3 }'] }));
  // 3 are in flight over both workers; 7 overflow.
  const { refused, served } = await tenAtOnce(port);
  assert.equal(served.length, 3);
  assert.equal(refused.length, 7);
  // Each 503 came before the first answer of the slow upstream: none waited for it.
  assert.ok(Math.max(...refused) < Math.min(...served));
  assert.equal(readStat(inst, 'cluster.app.upstream_rq_pending_overflow'), 7n);
});

test('circuit breakers: past maxPendingRequests the client gets 503 at once, and the overflow counter matches', async (t) => {
  const slow = await startBackendProcess(t, 'slow');
  const port = await freePort();
  // One worker: each worker's pool may always open its first connection, so with two the count would depend on where the kernel put each client.
  const inst = await startProxyctl(t, clusterConfig({ port, workers: 1, route: ['timeout: 10s'], cluster: [`endpoints: [127.0.0.1:${slow.port}]`, 'circuitBreakers: { maxConnections: 1, maxPendingRequests: 2 }'] }));
  // 1 on the one connection, 2 waiting for it; 7 refused. The waiting ones are served one after the other.
  const { refused, served } = await tenAtOnce(port);
  assert.equal(served.length, 3);
  assert.equal(refused.length, 7);
  assert.ok(Math.max(...refused) < Math.min(...served));
  assert.equal(readStat(inst, 'cluster.app.upstream_rq_pending_overflow'), 7n);
  assert.equal(readStat(inst, 'cluster.app.upstream_rq_pending_total'), 2n);
});
