/**
 * Route timeouts and retries of the upstream exchange. The router is not wired into the codecs
 * yet, so each test drives one `UpstreamExchange` with a recording owner (`Downstream` below)
 * against real upstream sockets; `exchange()` is the one place that would become a client
 * request through a data plane.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import type { RetryOn, RetryPolicyConfig } from '../src/config/types-router.js';
import { buildSnapshot } from '../src/proxy/index.js';
import { UpstreamExchange, type ExchangeOwner, type ExchangePolicy } from '../src/proxy/http/exchange.js';
import { backoffMs, retriesStatus } from '../src/proxy/http/retry.js';
import type { MessageHead } from '../src/proxy/http/head.js';
import type { RouteInfo } from '../src/proxy/router/types.js';
import type { DirectResponseSnapshot } from '../src/proxy/types.js';
import type { ClusterRuntime } from '../src/proxy/upstream/cluster.js';
import { PoolRegistry } from '../src/proxy/upstream/registry.js';
import { StatsRegion } from '../src/shm/index.js';
import { freePort, tempDir } from './helpers.js';
import { cluster, delay, headsOf, makeConfig, startRawBackend } from './fixtures/proxy-util.js';

/** How the client saw the exchange end. */
interface Outcome {
  /** `response`: the upstream's, whole; `local`: answered by the proxy; `reset`: broken after the head. */
  kind: 'response' | 'local' | 'reset';
  status: number;
  body: string;
  flags: string;
}

/** A downstream side that records what it is given, as a connection or an HTTP/2 stream would pass it on. */
class Downstream implements ExchangeOwner {
  readonly isHead = false;
  readonly dechunk = false;
  readonly upgrading = false;
  reqDone = true;
  readonly exchange: UpstreamExchange;
  readonly outcome: Promise<Outcome>;
  private status = 0;
  private readonly body: Buffer[] = [];
  private settle!: (o: Outcome) => void;

  constructor(random?: () => number) {
    this.exchange = new UpstreamExchange(this, random);
    this.outcome = new Promise((r) => (this.settle = r));
  }

  waitUpstream(): void {}
  sendInterim(): void {}
  clientIp(): string {
    return '127.0.0.1';
  }
  upstreamDrained(): void {}

  sendHead(buf: Buffer, h: MessageHead, bodyEnd: number): boolean {
    this.status = h.status;
    this.body.push(Buffer.from(buf.subarray(h.headEnd, bodyEnd)));
    return true;
  }

  sendBody(buf: Buffer, start: number, end: number): boolean {
    this.body.push(Buffer.from(buf.subarray(start, end)));
    return true;
  }

  responseDone(status: number): void {
    this.end('response', status);
  }

  localReply(reply: DirectResponseSnapshot): void {
    this.end('local', reply.status);
  }

  resetMidResponse(): void {
    this.end('reset', this.status);
    this.exchange.abandon(); // what a connection does when it destroys itself
  }

  private end(kind: Outcome['kind'], status: number): void {
    this.settle({ kind, status, body: Buffer.concat(this.body).toString('latin1'), flags: this.exchange.responseFlags });
  }
}

interface Upstreams {
  cluster: ClusterRuntime;
  /** A `cluster.app.*` counter. */
  counter(name: string): number;
}

/** Cluster `app` over `ports` (round robin, first pick = first port), with its own stats region and pools. */
function upstreams(t: TestContext, ports: number[]): Upstreams {
  const stats = StatsRegion.create(join(tempDir(t, 'proxyctl-retry-'), 'stats'));
  // Round robin then starts at the first port, so "the next endpoint" is the second.
  const snapshot = buildSnapshot(makeConfig([], [cluster('app', ports)]), stats, { random: () => 0 });
  const pools = new PoolRegistry({ outlier: () => {} });
  t.after(() => pools.closeAll());
  const c = pools.build(snapshot.clusters.values(), Date.now()).get('app') as ClusterRuntime;
  return { cluster: c, counter: (n) => Number(stats.counter(`cluster.app.${n}`).value()) };
}

/** A route decision's `route` is what a connection manager passes as the policy. */
const routeInfoIsAPolicy: RouteInfo extends ExchangePolicy ? true : never = true;
void routeInfoIsAPolicy;

function policy(p: Partial<ExchangePolicy>): ExchangePolicy {
  return { timeoutMs: null, perTryTimeoutMs: null, retryPolicy: null, ...p };
}

function retries(retryOn: RetryOn[], numRetries = 1, extra: Partial<RetryPolicyConfig> = {}): RetryPolicyConfig {
  return { retryOn, numRetries, retriableStatusCodes: [], backoff: { baseMs: 1, maxMs: 10 }, ...extra };
}

const GET = Buffer.from('GET /r HTTP/1.1\r\nhost: test\r\n\r\n', 'latin1');

/** Bounds every wait of this file. */
function within<T>(p: Promise<T>, ms = 5000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no outcome within ${ms} ms`)), ms)));
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}

/** One request through a fresh exchange; the owner's part ends it as a connection would. */
async function exchange(u: Upstreams, p: ExchangePolicy | null, head: Buffer = GET): Promise<Outcome> {
  const d = new Downstream();
  d.exchange.start(u.cluster, head, false, p);
  const o = await within(d.outcome);
  d.exchange.finish(Date.now());
  return o;
}

function answer(s: Socket, status: number, body: string): void {
  s.write(`HTTP/1.1 ${status} X\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
}

/** Resolves when `cond` holds, polling; rejects after `ms`. */
async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await delay(10);
  }
}

test('a backend that resets the first connection: one retry, then its 200', async (t) => {
  const be = await startRawBackend(t, (s) => headsOf(s, (_h, sock) => (be.connections() === 1 ? sock.destroy() : answer(sock, 200, 'ok'))));
  const u = upstreams(t, [be.port]);
  const o = await exchange(u, policy({ retryPolicy: retries(['reset']) }));
  assert.deepEqual([o.kind, o.status, o.body, o.flags], ['response', 200, 'ok', '']);
  assert.equal(u.counter('upstream_rq_retry'), 1);
  assert.equal(u.counter('upstream_rq_retry_success'), 1);
  assert.equal(u.counter('upstream_rq_total'), 2);
  assert.equal(u.counter('upstream_rq_503'), 0);
});

test('without a policy the same reset is answered 503, flagged UC', async (t) => {
  const be = await startRawBackend(t, (s) => headsOf(s, (_h, sock) => sock.destroy()));
  const u = upstreams(t, [be.port]);
  const o = await exchange(u, null);
  assert.deepEqual([o.kind, o.status, o.flags], ['local', 503, 'UC']);
  assert.equal(u.counter('upstream_rq_retry'), 0);
  assert.equal(be.connections(), 1);
});

test('503 then 200 with retryOn 5xx: the retried response\'s connection is closed, the client gets the 200', async (t) => {
  let n = 0;
  const be = await startRawBackend(t, (s) => headsOf(s, (_h, sock) => (++n === 1 ? answer(sock, 503, 'busy') : answer(sock, 200, 'ok'))));
  const u = upstreams(t, [be.port]);
  const o = await exchange(u, policy({ retryPolicy: retries(['5xx']) }));
  assert.deepEqual([o.kind, o.status, o.body], ['response', 200, 'ok']);
  assert.equal(be.connections(), 2, 'the 503 came on a connection that was not reused');
  assert.equal(u.counter('upstream_rq_retry'), 1);
  assert.equal(u.counter('upstream_rq_retry_success'), 1);
});

test('retriable-4xx and retriable-status-codes retry 409 and the listed codes only', async (t) => {
  const statuses = [409, 418, 200, 429];
  let n = 0;
  const be = await startRawBackend(t, (s) => headsOf(s, (_h, sock) => answer(sock, statuses[n++] ?? 200, 'x')));
  const u = upstreams(t, [be.port]);
  const o = await exchange(u, policy({ retryPolicy: retries(['retriable-4xx', 'retriable-status-codes'], 3, { retriableStatusCodes: [418] }) }));
  assert.equal(o.status, 200);
  assert.equal(u.counter('upstream_rq_retry'), 2);
  const again = await exchange(u, policy({ retryPolicy: retries(['retriable-4xx', 'retriable-status-codes'], 3, { retriableStatusCodes: [418] }) }));
  assert.equal(again.status, 429, '429 is not listed: passed through');
  assert.equal(u.counter('upstream_rq_retry'), 2);
});

test('after an interim head went downstream the final 5xx is passed through, not retried', async (t) => {
  const be = await startRawBackend(t, (s) =>
    headsOf(s, (_h, sock) => sock.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 503 X\r\ncontent-length: 4\r\n\r\nbusy')),
  );
  const u = upstreams(t, [be.port]);
  const o = await exchange(u, policy({ retryPolicy: retries(['5xx'], 3) }));
  assert.deepEqual([o.kind, o.status, o.body], ['response', 503, 'busy']);
  assert.equal(u.counter('upstream_rq_retry'), 0);
  assert.equal(be.connections(), 1);
});

test('a request whose body streams after start is never retried', async (t) => {
  const be = await startRawBackend(t, (s) => s.once('data', () => s.destroy()));
  const u = upstreams(t, [be.port]);
  const d = new Downstream();
  d.reqDone = false;
  d.exchange.start(u.cluster, Buffer.from('POST /up HTTP/1.1\r\nhost: test\r\ncontent-length: 4\r\n\r\n', 'latin1'), true, policy({ retryPolicy: retries(['5xx', 'reset'], 3) }));
  d.exchange.writeBody(Buffer.from('ab'));
  const o = await within(d.outcome);
  d.exchange.abandon();
  assert.deepEqual([o.kind, o.status], ['local', 503]);
  assert.equal(u.counter('upstream_rq_retry'), 0);
  assert.equal(be.connections(), 1);
});

test('numRetries 2 and three 503s: the client gets the last 503 as the upstream sent it, flagged URX', async (t) => {
  let n = 0;
  const be = await startRawBackend(t, (s) => headsOf(s, (_h, sock) => answer(sock, 503, `try ${++n}`)));
  const u = upstreams(t, [be.port]);
  const o = await exchange(u, policy({ retryPolicy: retries(['gateway-error'], 2) }));
  assert.deepEqual([o.kind, o.status, o.body, o.flags], ['response', 503, 'try 3', 'URX']);
  assert.equal(u.counter('upstream_rq_retry'), 2);
  assert.equal(u.counter('upstream_rq_retry_success'), 0);
  assert.equal(u.counter('upstream_rq_total'), 3);
});

test('connect failures are retried with connect-failure; when retries run out the client gets 503', async (t) => {
  const dead = await freePort();
  const u = upstreams(t, [dead]);
  const o = await exchange(u, policy({ retryPolicy: retries(['connect-failure'], 2) }));
  assert.deepEqual([o.kind, o.status, o.flags], ['local', 503, 'URX,UF']);
  assert.equal(u.counter('upstream_cx_connect_fail'), 3);
  assert.equal(u.counter('upstream_rq_retry'), 2);
  assert.equal(u.counter('upstream_rq_503'), 1);
});

test('a per-try timeout closes the silent try and retries on the next endpoint', async (t) => {
  const silent = await startRawBackend(t, (s) => s.resume());
  const good = await startRawBackend(t, (s) => headsOf(s, (_h, sock) => answer(sock, 200, 'second')));
  const u = upstreams(t, [silent.port, good.port]);
  const o = await exchange(u, policy({ perTryTimeoutMs: 150, retryPolicy: retries(['5xx']) }));
  assert.deepEqual([o.kind, o.status, o.body], ['response', 200, 'second']);
  assert.equal(u.counter('upstream_rq_per_try_timeout'), 1);
  assert.equal(u.counter('upstream_rq_retry'), 1);
  await until(() => silent.sockets.size === 0); // the timed-out connection is closed, not pooled
});

test('a per-try timeout without a policy that retries it answers 504', async (t) => {
  const silent = await startRawBackend(t, (s) => s.resume());
  const u = upstreams(t, [silent.port]);
  const o = await exchange(u, policy({ perTryTimeoutMs: 100, retryPolicy: retries(['reset']) }));
  assert.deepEqual([o.kind, o.status, o.flags], ['local', 504, 'UT']);
  assert.equal(u.counter('upstream_rq_per_try_timeout'), 1);
  assert.equal(u.counter('upstream_rq_retry'), 0);
});

test('the route timeout answers 504 before the response head, counted and flagged UT', async (t) => {
  const silent = await startRawBackend(t, (s) => s.resume());
  const u = upstreams(t, [silent.port]);
  const o = await exchange(u, policy({ timeoutMs: 150, retryPolicy: retries(['5xx'], 3) }));
  assert.deepEqual([o.kind, o.status, o.flags], ['local', 504, 'UT']);
  assert.equal(u.counter('upstream_rq_timeout'), 1);
  assert.equal(u.counter('upstream_rq_504'), 1);
});

test('the route timeout after the head went downstream resets the response', async (t) => {
  const stall = await startRawBackend(t, (s) => headsOf(s, (_h, sock) => sock.write('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\npart')));
  const u = upstreams(t, [stall.port]);
  const o = await exchange(u, policy({ timeoutMs: 150 }));
  assert.deepEqual([o.kind, o.status, o.body, o.flags], ['reset', 200, 'part', 'UT']);
  assert.equal(u.counter('upstream_rq_timeout'), 1);
  await until(() => stall.sockets.size === 0);
});

test('route timeout 0 means none: a slow answer still arrives', async (t) => {
  const slow = await startRawBackend(t, (s) => headsOf(s, (_h, sock) => setTimeout(() => answer(sock, 200, 'late'), 100)));
  const u = upstreams(t, [slow.port]);
  const o = await exchange(u, policy({ timeoutMs: 0, perTryTimeoutMs: 0 }));
  assert.deepEqual([o.kind, o.status, o.body], ['response', 200, 'late']);
});

test('an abandoned exchange clears its backoff timer: no retry is sent and no timer is left', async (t) => {
  const be = await startRawBackend(t, (s) => headsOf(s, (_h, sock) => sock.destroy()));
  const u = upstreams(t, [be.port]);
  const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const before = timers();
  // The jitter draws the top of [0, 30 s]: the retry would wait long past the end of the test.
  const d = new Downstream(() => 0.999999);
  d.exchange.start(u.cluster, GET, false, policy({ retryPolicy: retries(['reset'], 1, { backoff: { baseMs: 30_000, maxMs: 30_000 } }) }));
  await until(() => u.counter('upstream_rq_retry') === 1);
  assert.equal(timers(), before + 1, 'the backoff timer is armed');
  d.exchange.abandon();
  assert.equal(timers(), before, 'abandon cleared it');
  await delay(50);
  assert.equal(be.connections(), 1);
});

test('the stale keep-alive resend still works with a policy and is not counted as a retry', async (t) => {
  // The first connection answers once, keep-alive, then drops the next request unanswered, as a
  // server that timed the idle connection out at that moment would.
  const be = await startRawBackend(t, (s) => {
    let n = 0;
    const conn = be.connections();
    headsOf(s, (_h, sock) => (conn === 1 && ++n === 2 ? sock.destroy() : answer(sock, 200, `c${conn}`)));
  });
  const u = upstreams(t, [be.port]);
  assert.equal((await exchange(u, null)).body, 'c1');
  const o = await exchange(u, policy({ retryPolicy: retries(['reset']) }));
  assert.deepEqual([o.kind, o.status, o.body], ['response', 200, 'c2']);
  assert.equal(be.connections(), 2);
  assert.equal(u.counter('upstream_rq_retry'), 0);
  assert.equal(u.counter('upstream_rq_total'), 2);
});

test('backoff is full jitter over [0, min(max, base × 2^attempt)]', () => {
  const b = { baseMs: 25, maxMs: 250 };
  assert.equal(backoffMs(b, 0, () => 0), 0);
  assert.equal(backoffMs(b, 0, () => 0.999999), 25);
  assert.equal(backoffMs(b, 2, () => 0.999999), 100);
  assert.equal(backoffMs(b, 5, () => 0.999999), 250, 'capped at max');
});

test('gateway-error retries 502..504 only; 5xx any 5xx', () => {
  const gw = retries(['gateway-error']);
  assert.deepEqual([500, 502, 503, 504, 505].map((s) => retriesStatus(gw, s)), [false, true, true, true, false]);
  assert.equal(retriesStatus(retries(['5xx']), 500), true);
  assert.equal(retriesStatus(retries(['reset']), 503), false);
});
