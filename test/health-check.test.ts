/**
 * Active health checks against real loopback backends: the first check of an unknown host
 * decides it, thresholds count checks in a row, handed-over state stands until they say
 * otherwise, HTTP statuses, headers and `x-envoy-degraded`, timeouts and refused connects, TCP
 * send/expect, TLS with the cluster's settings, target changes, the first round, the stats
 * and what `stop()` leaves behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { freePort, spawnFixture, tempDir, completion } from './helpers.js';
import { delay, listenOnLoopback, startRawBackend } from './fixtures/proxy-util.js';
import { eventually } from './fixtures/supervisor-util.js';
import { makeCa, makeLeaf, read } from './fixtures/tls-util.js';
import { harness, httpCluster, scriptedBackend, target, tcpCluster, type HealthEvent } from './fixtures/health-check-util.js';

/** Bytes as the config spells them (hex). */
function hex(text: string): string {
  return Buffer.from(text).toString('hex');
}

/** The events of `events`, each with how many requests the backend had served when it came. */
function transitions(log: { e: HealthEvent; at: number }[]): string[] {
  return log.map(({ e, at }) => `${e.health}@${at}`);
}

test('an unknown host is decided by its first check, either way', async (t) => {
  const up = await scriptedBackend(t, [{ status: 200 }]);
  const down = await scriptedBackend(t, [{ status: 503 }]);
  const seen: { e: HealthEvent; at: number }[] = [];
  // Thresholds of 3 would need three checks for a known host; an unknown one needs one.
  const h = harness(t, httpCluster('first', {}, { healthyThreshold: 3, unhealthyThreshold: 3 }), (e) =>
    seen.push({ e, at: (e.key === target(up.port).key ? up : down).requests.length }),
  );
  h.checker.setTargets([target(up.port), target(down.port)]);
  await h.reaches(target(up.port).key, 'healthy');
  await h.reaches(target(down.port).key, 'unhealthy');
  assert.deepEqual(seen.find((s) => s.e.key === target(up.port).key), { e: { key: target(up.port).key, health: 'healthy' }, at: 1 });
  assert.deepEqual(seen.find((s) => s.e.key === target(down.port).key), { e: { key: target(down.port).key, health: 'unhealthy' }, at: 1 });
  assert.equal(h.gauge('healthy'), 1);
});

test('thresholds: unhealthyThreshold failures in a row, then healthyThreshold passes in a row', async (t) => {
  // Two failures do not turn a healthy host; the third in a row does; one pass does not bring it back, two do.
  const b = await scriptedBackend(t, [{ status: 200 }, { status: 503 }, { status: 503 }, { status: 200 }, { status: 503 }, { status: 503 }, { status: 503 }, { status: 200 }, { status: 503 }, { status: 200 }, { status: 200 }]);
  const seen: { e: HealthEvent; at: number }[] = [];
  const h = harness(t, httpCluster('thresholds'), (e) => seen.push({ e, at: b.requests.length }));
  h.checker.setTargets([target(b.port)]);
  await eventually(() => b.requests.length >= 14, 10_000, 'checks after the script');
  assert.deepEqual(transitions(seen), ['healthy@1', 'unhealthy@7', 'healthy@11']);
  assert.equal(h.gauge('healthy'), 1);
});

test('a handed-over verdict stands until the thresholds overturn it', async (t) => {
  const failing = await scriptedBackend(t, [{ status: 503 }]);
  const passing = await scriptedBackend(t, [{ status: 200 }]);
  const seen: { e: HealthEvent; at: number }[] = [];
  const h = harness(t, httpCluster('handover'), (e) => seen.push({ e, at: (e.key === target(failing.port).key ? failing : passing).requests.length }));
  const initial = new Map([
    [target(failing.port).key, 'healthy' as const],
    [target(passing.port).key, 'unhealthy' as const],
  ]);
  h.checker.setTargets([target(failing.port), target(passing.port)], initial);
  assert.equal(h.gauge('healthy'), 1, 'the handed-over healthy host counts before any check');
  await h.reaches(target(failing.port).key, 'unhealthy');
  await h.reaches(target(passing.port).key, 'healthy');
  const at = (port: number): string[] => transitions(seen.filter((s) => s.e.key === target(port).key));
  assert.deepEqual(at(failing.port), ['unhealthy@3']);
  assert.deepEqual(at(passing.port), ['healthy@2']);
});

test('expected statuses are inclusive ranges', async (t) => {
  const teapot = await scriptedBackend(t, [{ status: 418 }]);
  const noContent = await scriptedBackend(t, [{ status: 204 }]);
  const edge = await scriptedBackend(t, [{ status: 302 }]);
  const h = harness(t, httpCluster('ranges', { expectedStatuses: [[200, 200], [300, 302], [418, 418]] }));
  h.checker.setTargets([target(teapot.port), target(noContent.port), target(edge.port)]);
  await h.reaches(target(teapot.port).key, 'healthy');
  await h.reaches(target(noContent.port).key, 'unhealthy');
  await h.reaches(target(edge.port).key, 'healthy');
  const reason = h.lines.find((l) => l.fields?.host === target(noContent.port).key)?.fields?.reason;
  assert.equal(reason, 'status 204');
});

test('the check sends GET <path> with the Host header, its user agent and connection: close', async (t) => {
  const byName = await scriptedBackend(t, [{ status: 200 }]);
  const byConfig = await scriptedBackend(t, [{ status: 200 }]);
  const a = harness(t, httpCluster('app', { path: '/ready?deep=1' }));
  const b = harness(t, httpCluster('other', { host: 'health.internal' }));
  a.checker.setTargets([target(byName.port)]);
  b.checker.setTargets([target(byConfig.port)]);
  await a.reaches(target(byName.port).key, 'healthy');
  await b.reaches(target(byConfig.port).key, 'healthy');
  const first = byName.requests[0];
  assert.equal(first?.url, '/ready?deep=1');
  assert.equal(first?.headers.host, 'app');
  assert.equal(first?.headers['user-agent'], 'proxyctl-health-check');
  assert.equal(first?.headers.connection, 'close');
  assert.equal(byConfig.requests[0]?.headers.host, 'health.internal');
  assert.equal(byConfig.requests[0]?.url, '/healthz');
});

test('x-envoy-degraded on a passing answer makes the host degraded; without it, healthy again', async (t) => {
  const b = await scriptedBackend(t, [{ status: 200 }, { status: 200, degraded: true }, { status: 200 }]);
  const failingDegraded = await scriptedBackend(t, [{ status: 503, degraded: true }]);
  const seen: { e: HealthEvent; at: number }[] = [];
  const h = harness(t, httpCluster('degraded'), (e) => e.key === target(b.port).key && seen.push({ e, at: b.requests.length }));
  h.checker.setTargets([target(b.port), target(failingDegraded.port)]);
  await eventually(() => b.requests.length >= 4, 10_000, 'four checks');
  assert.deepEqual(transitions(seen), ['healthy@1', 'degraded@2', 'healthy@3']);
  await h.reaches(target(failingDegraded.port).key, 'unhealthy');
  assert.equal(h.counter('degraded'), 1);
  assert.equal(h.gauge('healthy'), 1);
});

test('a check that gets no answer within timeoutMs fails, counts a network failure and closes its socket', async (t) => {
  const silent = await startRawBackend(t, (s: Socket) => s.resume());
  const h = harness(t, httpCluster('silent', {}, { timeoutMs: 150, intervalMs: 50 }));
  h.checker.setTargets([target(silent.port)]);
  await h.reaches(target(silent.port).key, 'unhealthy');
  assert.equal(h.lines.at(-1)?.fields?.reason, 'timeout');
  assert.ok(h.counter('failure') >= 1);
  assert.ok(h.counter('network_failure') >= 1);
  assert.equal(h.counter('success'), 0);
  // The timed-out check's connection goes away: at most the one check in flight stays open.
  await eventually(() => silent.connections() >= 3, 10_000, 'three checks');
  assert.ok(silent.sockets.size <= 1, `open check connections: ${silent.sockets.size}`);
});

test('a refused connect fails the check as a network failure', async (t) => {
  const port = await freePort();
  const h = harness(t, tcpCluster('refused'));
  h.checker.setTargets([target(port)]);
  await h.reaches(target(port).key, 'unhealthy');
  assert.equal(h.lines.at(-1)?.fields?.reason, 'refused');
  assert.equal(h.lines.at(-1)?.fields?.cluster, 'refused');
  assert.ok(h.counter('network_failure') >= 1);
});

test('tcp: a connect alone passes; with send and expect, every expected string must come back', async (t) => {
  const plain = await startRawBackend(t, (s: Socket) => s.resume());
  const got: Buffer[] = [];
  // Answers in pieces and in another order than expected: matching is over everything received.
  const answering = await startRawBackend(t, (s: Socket) =>
    s.on('data', (d: Buffer) => {
      got.push(d);
      if (Buffer.concat(got).includes('PING\n')) {
        s.write('READY ');
        setTimeout(() => s.write('PO'), 5);
        setTimeout(() => s.write('NG\n'), 10);
      }
    }),
  );
  const closing = await startRawBackend(t, (s: Socket) => s.once('data', () => s.end('PONG\n')));
  const connectOnly = harness(t, tcpCluster('plain'));
  const sendExpect = harness(t, tcpCluster('ping', { send: hex('PING\n'), expect: [hex('PONG'), hex('READY')] }));
  connectOnly.checker.setTargets([target(plain.port)]);
  sendExpect.checker.setTargets([target(answering.port), target(closing.port)]);
  await connectOnly.reaches(target(plain.port).key, 'healthy');
  await sendExpect.reaches(target(answering.port).key, 'healthy');
  await sendExpect.reaches(target(closing.port).key, 'unhealthy');
  assert.equal(Buffer.concat(got).subarray(0, 5).toString(), 'PING\n');
  assert.equal(sendExpect.lines.find((l) => l.fields?.host === target(closing.port).key)?.fields?.reason, 'closed');
  assert.ok(sendExpect.counter('network_failure') >= 1);
});

test('tcp: expected bytes that never come fail at the timeout', async (t) => {
  const mute = await startRawBackend(t, (s: Socket) => s.resume());
  const h = harness(t, tcpCluster('mute', { expect: [hex('HELLO')] }, { timeoutMs: 150 }));
  h.checker.setTargets([target(mute.port)]);
  await h.reaches(target(mute.port).key, 'unhealthy');
  assert.equal(h.lines.at(-1)?.fields?.reason, 'timeout');
});

test('https checks use the cluster tls settings: verified against its CA, refused without it', async (t) => {
  const dir = tempDir(t);
  makeCa(dir, 'ca');
  makeLeaf(dir, 'backend', 'ca', ['backend.test']);
  const port = await listenOnLoopback(t, createHttpsServer({ cert: read(dir, 'backend.pem'), key: read(dir, 'backend.key') }, (_req, res) => res.end('ok')));
  const trusted = harness(t, { ...httpCluster('trusted'), tls: { sni: 'backend.test', caFile: join(dir, 'ca.pem'), ca: read(dir, 'ca.pem'), verify: true } });
  const untrusted = harness(t, { ...httpCluster('untrusted'), tls: { sni: 'backend.test', caFile: null, ca: null, verify: true } });
  trusted.checker.setTargets([target(port)]);
  untrusted.checker.setTargets([target(port)]);
  await trusted.reaches(target(port).key, 'healthy');
  await untrusted.reaches(target(port).key, 'unhealthy');
  assert.equal(untrusted.lines.at(-1)?.fields?.reason, 'tls');
});

test('setTargets keeps hosts that stay, starts new ones and stops removed ones', async (t) => {
  const a = await scriptedBackend(t, [{ status: 200 }]);
  const b = await scriptedBackend(t, [{ status: 200 }]);
  const h = harness(t, httpCluster('members'));
  h.checker.setTargets([target(a.port)]);
  await h.reaches(target(a.port).key, 'healthy');
  h.checker.setTargets([target(a.port), target(b.port)]);
  await h.reaches(target(b.port).key, 'healthy');
  await eventually(() => a.requests.length >= 3, 10_000, 'more checks of a');
  assert.equal(h.events.filter((e) => e.key === target(a.port).key).length, 1, 'a kept its verdict');
  h.checker.setTargets([target(b.port)]);
  assert.equal(h.gauge('healthy'), 1);
  const seenByA = a.requests.length;
  const bAt = b.requests.length;
  await eventually(() => b.requests.length >= bAt + 5, 10_000, 'more checks of b');
  // A check of a may have been in flight at the change (it is aborted), nothing after it.
  assert.ok(a.requests.length <= seenByA + 1, `a got ${a.requests.length - seenByA} checks after removal`);
});

test('a removed host with a check in flight: the socket closes and nothing is reported', async (t) => {
  const silent = await startRawBackend(t, (s: Socket) => s.resume());
  const h = harness(t, httpCluster('aborted', {}, { timeoutMs: 300 }));
  h.checker.setTargets([target(silent.port)]);
  await eventually(() => silent.sockets.size === 1, 5_000, 'the check connection');
  h.checker.setTargets([]);
  await eventually(() => silent.sockets.size === 0, 5_000, 'the aborted check closed');
  await delay(500);
  assert.deepEqual(h.events, []);
  assert.equal(h.counter('failure'), 0);
  assert.equal(silent.connections(), 1);
});

test('firstRound settles once every host is decided, or at its timeout', async (t) => {
  const up = await scriptedBackend(t, [{ status: 200 }]);
  const down = await scriptedBackend(t, [{ status: 500 }]);
  const decided = harness(t, httpCluster('round'));
  decided.checker.setTargets([target(up.port), target(down.port)]);
  await decided.checker.firstRound(30_000);
  assert.deepEqual(new Set(decided.events.map((e) => `${e.key} ${e.health}`)), new Set([`${target(up.port).key} healthy`, `${target(down.port).key} unhealthy`]));

  const silent = await startRawBackend(t, (s: Socket) => s.resume());
  const undecided = harness(t, httpCluster('slow', {}, { timeoutMs: 30_000 }));
  undecided.checker.setTargets([target(up.port), target(silent.port)]);
  await undecided.checker.firstRound(300);
  assert.equal(undecided.healthOf(target(silent.port).key), 'unknown');
  await undecided.reaches(target(up.port).key, 'healthy');
});

test('stats: attempts are successes plus failures, the gauge counts healthy hosts', async (t) => {
  const b = await scriptedBackend(t, [{ status: 200 }, { status: 200, degraded: true }, { status: 503 }, { status: 503 }, { status: 503 }]);
  let stopped: { attempt: number; success: number; failure: number; network: number; degraded: number; healthy: number } | null = null;
  const h = harness(t, httpCluster('counted'), (e) => {
    if (e.health !== 'unhealthy') return;
    // No check is in flight while a verdict is reported: stop here and every attempt is accounted for.
    h.checker.stop();
    stopped = { attempt: h.counter('attempt'), success: h.counter('success'), failure: h.counter('failure'), network: h.counter('network_failure'), degraded: h.counter('degraded'), healthy: h.gauge('healthy') };
  });
  h.checker.setTargets([target(b.port)]);
  await h.reaches(target(b.port).key, 'unhealthy');
  assert.deepEqual(stopped, { attempt: 5, success: 2, failure: 3, network: 0, degraded: 1, healthy: 0 });
  assert.equal(b.requests.length, 5);
  await delay(200);
  assert.equal(b.requests.length, 5, 'no check after stop()');
});

test('stop() leaves nothing that keeps the process alive, with a check in flight', async (t) => {
  const silent = await startRawBackend(t, (s: Socket) => s.resume());
  const up = await scriptedBackend(t, [{ status: 200 }]);
  const child = spawnFixture(t, 'health-check-child', [join(tempDir(t), 'stats'), String(up.port), String(silent.port)]);
  // The silent host's check would hold its socket for a minute: exiting well before says stop() closed it.
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<string>((r) => (timer = setTimeout(() => r('still running'), 15_000)));
  const out = await Promise.race([completion(child), deadline]).finally(() => clearTimeout(timer));
  assert.match(out, /stopped/);
  assert.equal(silent.connections(), 1);
  await eventually(() => silent.sockets.size === 0, 5_000, 'the in-flight check closed');
});
