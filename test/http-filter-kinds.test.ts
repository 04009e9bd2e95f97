/*
 * The four HTTP filters, each through a real chain with a fake stream, a real stats region,
 * a fake clock (rate limit) and a seeded random source (fault); the shared bucket across two
 * real worker threads. The chain itself: http-filters.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { hostname } from 'node:os';
import type { TestContext } from 'node:test';
import type { HttpFilterFactory, RequestHeaders, StreamInfo } from '../src/proxy/http/filter.js';
import { FilterChain } from '../src/proxy/http/filter-chain.js';
import { ResponseHeaderMap } from '../src/proxy/http/header-map.js';
import { headersFilter } from '../src/proxy/http/filters/headers.js';
import { createLocalRateLimitFilter } from '../src/proxy/http/filters/local-rate-limit.js';
import { corsFilter } from '../src/proxy/http/filters/cors.js';
import { createFaultFilter } from '../src/proxy/http/filters/fault.js';
import { roll, seededRandom } from '../src/proxy/http/filters/random.js';
import { parseTemplate } from '../src/proxy/http/filters/header-template.js';
import { StatsRegion, readSnapshot } from '../src/shm/index.js';
import { Recorder, region, request, streamInfo } from './fixtures/filter-util.js';
import { fixture, tempDir } from './helpers.js';

const NO_STATS = { filterError: { inc() {} }, bufferOverflow: { inc() {} } };

/** Validates `raw` with the factory's schema and prepares it as listener `web` would. */
function prepare<C, P>(factory: HttpFilterFactory<C, P>, raw: unknown, stats: StatsRegion, segment: string): P {
  const config = factory.configSchema.parse(raw);
  return factory.prepare(config, { listenerName: 'web', statPrefix: `http.web.${segment}.`, stats, workers: 2 });
}

/** One request through a chain of one filter; the upstream answers `status` if the request gets there. */
function exchange<P>(factory: HttpFilterFactory<unknown, P>, p: P, req: RequestHeaders, info: StreamInfo = streamInfo(), status = 200) {
  const rec = new Recorder();
  const chain = new FilterChain([factory.create(p)], info, rec, rec, NO_STATS);
  chain.decodeHeaders(req, true);
  if (rec.request !== null) {
    const res = new ResponseHeaderMap(status);
    res.add('server', 'upstream');
    chain.encodeHeaders(res, true);
  }
  return { rec, chain, info };
}

const counter = (stats: StatsRegion, name: string): bigint => stats.counter(name).value();

test('headers: remove, set and add on both sides, with variables rendered per request', (t) => {
  const stats = region(t);
  const p = prepare(headersFilter, {
    request: {
      set: { 'X-Client': '%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%', 'x-peer': '%DOWNSTREAM_REMOTE_ADDRESS%' },
      add: { 'x-local': '%DOWNSTREAM_LOCAL_ADDRESS% %PROTOCOL% 100%%', 'x-sni': '%REQUESTED_SERVER_NAME%' },
      remove: ['x-secret'],
    },
    response: { remove: ['server'], add: { 'x-up': '%UPSTREAM_HOST%', 'x-echo': '%REQ(x-trace)%/%REQ(:authority)%', 'x-at': '%START_TIME%', 'x-by': '%HOSTNAME%' } },
  }, stats, 'headers');
  const req = request('GET', '/', ['host', 'a.test', 'x-secret', 's', 'x-client', 'spoofed', 'x-trace', 't1']);
  const info = streamInfo({ upstreamHost: '127.0.0.1:9001' });
  const { rec } = exchange(headersFilter as HttpFilterFactory<unknown, typeof p>, p, req, info);
  assert.equal(rec.request?.get('x-client'), '192.0.2.7');
  assert.equal(rec.request?.get('x-peer'), '192.0.2.7:40123');
  assert.equal(rec.request?.get('x-local'), '[::1]:8080 HTTP/1.1 100%');
  assert.equal(rec.request?.has('x-sni'), false, 'an empty value is not written');
  assert.equal(rec.request?.has('x-secret'), false);
  assert.equal(rec.response?.has('server'), false);
  assert.equal(rec.response?.get('x-up'), '127.0.0.1:9001');
  assert.equal(rec.response?.get('x-echo'), 't1/a.test');
  assert.equal(rec.response?.get('x-at'), '2026-01-02T03:04:05.678Z');
  assert.equal(rec.response?.get('x-by'), hostname());
});

test('header templates: an unknown or misplaced variable is refused with its character position', () => {
  assert.deepEqual(parseTemplate('a%%b', 'request'), { ok: true, parts: [{ literal: 'a%b' }] });
  /** Where the refusal points (0-based), or 'ok'. */
  const bad = (text: string, side: 'request' | 'response' = 'request'): number | 'ok' => {
    const r = parseTemplate(text, side);
    return r.ok ? 'ok' : r.offset;
  };
  assert.equal(bad('x %NOPE% y'), 2);
  assert.equal(bad('%REQ()%'), 0);
  assert.equal(bad('ab %PROTOCOL'), 3);
  assert.equal(bad('%UPSTREAM_HOST%'), 0, 'response side only');
  assert.equal(bad('%UPSTREAM_HOST%', 'response'), 'ok');
  assert.equal(bad('a%%b %HOSTNAME(x)%'), 5);
  assert.equal(bad('%REQ(bad name)%', 'response'), 0);
  assert.equal(bad('%%%REQ(a?b)%'), 2, 'alternatives are for access logs');
  assert.equal(bad('%REQ(a):4%'), 0, 'truncation is for access logs');
  assert.equal(bad('%RESPONSE_CODE%', 'response'), 0, 'an access-log operator that header values do not know');
  assert.deepEqual(parseTemplate('%REQ(:AUTHORITY)%/%REQ(X-A)%', 'request'), {
    ok: true,
    parts: [{ variable: 'REQ', arg: ':authority' }, { literal: '/' }, { variable: 'REQ', arg: 'x-a' }],
  });
});

test('localRateLimit: the bucket empties, answers 429 with retry-after, and refills on the clock', (t) => {
  const stats = region(t);
  const clock = { t: 1_000_000 };
  const factory = createLocalRateLimitFilter({ now: () => clock.t });
  const p = prepare(factory, { maxTokens: 2, tokensPerFill: 1, fillInterval: '2s', responseHeaders: true }, stats, 'local_rate_limit');
  const f = factory as HttpFilterFactory<unknown, typeof p>;
  const statuses = (): number[] => [0, 1, 2].map(() => exchange(f, p, request()).rec.response?.status ?? 0);
  assert.deepEqual(statuses(), [200, 200, 429]);
  clock.t += 500;
  const limited = exchange(f, p, request());
  assert.equal(limited.rec.response?.status, 429);
  assert.equal(limited.rec.response?.get('retry-after'), '2');
  assert.equal(limited.rec.response?.get('x-ratelimit-remaining'), '0');
  assert.equal(limited.info.responseFlags, 'RL');
  clock.t += 1500;
  const next = exchange(f, p, request());
  assert.equal(next.rec.response?.status, 200);
  assert.equal(next.rec.response?.get('x-ratelimit-limit'), '2');
  assert.equal(next.rec.response?.get('x-ratelimit-remaining'), '0');
  clock.t += 60_000;
  assert.deepEqual(statuses(), [200, 200, 429], 'a long pause fills to maxTokens, never more');
  assert.equal(counter(stats, 'http.web.local_rate_limit.enabled'), 8n);
  assert.equal(counter(stats, 'http.web.local_rate_limit.ok'), 5n);
  assert.equal(counter(stats, 'http.web.local_rate_limit.rate_limited'), 3n);
});

test('localRateLimit: two worker threads of one process share one bucket exactly', { timeout: 60_000 }, async (t: TestContext) => {
  const path = join(tempDir(t), 'stats');
  StatsRegion.create(path, { maxStats: 64, nameCapacity: 4096, dataCapacity: 4096 });
  const start = new Int32Array(new SharedArrayBuffer(4));
  const job = { region: path, prefix: 'http.web.local_rate_limit.', maxTokens: 5000, attempts: 4000, now: 7_000, start };
  const workers = [0, 1].map(() => new Worker(fixture('rate-limit-worker'), { workerData: job }));
  t.after(() => Promise.all(workers.map((w) => w.terminate())));
  const results = workers.map(
    (w) =>
      new Promise<{ ready: Promise<void>; admitted: Promise<number> }>((resolve) => {
        let onReady: () => void = () => {};
        let onDone: (n: number) => void = () => {};
        const ready = new Promise<void>((r) => (onReady = r));
        const admitted = new Promise<number>((r, reject) => {
          onDone = r;
          w.once('error', reject);
        });
        w.on('message', (m: unknown) => (m === 'ready' ? onReady() : onDone(m as number)));
        resolve({ ready, admitted });
      }),
  );
  const handles = await Promise.all(results);
  await Promise.all(handles.map((h) => h.ready));
  Atomics.store(start, 0, 1);
  Atomics.notify(start, 0);
  const admitted = await Promise.all(handles.map((h) => h.admitted));
  assert.equal(admitted[0]! + admitted[1]!, 5000, `8000 attempts on 5000 tokens: ${admitted.join(' + ')}`);
  assert.equal(readSnapshot(StatsRegion.open(path, { readOnly: true })).gauges.get('http.web.local_rate_limit.tokens'), 0n);
});

test('cors: a preflight from an allowed origin is answered 204 here; others get the allow-origin on the response', (t) => {
  const stats = region(t);
  const p = prepare(corsFilter, {
    allowOrigins: [{ exact: 'https://app.example.com' }, { suffix: '.example.org' }, { prefix: 'http://localhost:' }, { regex: 'https://[a-z]+\\.test' }],
    allowMethods: ['GET', 'PUT'],
    allowHeaders: ['X-Token'],
    exposeHeaders: ['x-total'],
    maxAge: '10m',
    allowCredentials: true,
  }, stats, 'cors');
  const f = corsFilter as HttpFilterFactory<unknown, typeof p>;
  const pre = exchange(f, p, request('OPTIONS', '/', ['host', 'a', 'origin', 'https://app.example.com', 'access-control-request-method', 'PUT']));
  assert.deepEqual(pre.rec.events, ['down:204:end'], 'the router never sees a preflight');
  const h = pre.rec.response;
  assert.equal(h?.get('access-control-allow-origin'), 'https://app.example.com');
  assert.equal(h?.get('access-control-allow-methods'), 'GET, PUT');
  assert.equal(h?.get('access-control-allow-headers'), 'x-token');
  assert.equal(h?.get('access-control-max-age'), '600');
  assert.equal(h?.get('access-control-allow-credentials'), 'true');

  for (const origin of ['https://www.example.org', 'http://localhost:3000', 'https://abc.test']) {
    const simple = exchange(f, p, request('GET', '/', ['host', 'a', 'origin', origin]));
    assert.equal(simple.rec.response?.get('access-control-allow-origin'), origin);
    assert.equal(simple.rec.response?.get('vary'), 'origin');
    assert.equal(simple.rec.response?.get('access-control-expose-headers'), 'x-total');
  }
  for (const origin of ['https://evil.com', 'https://abc.test.evil.com', 'https://app.example.com.evil']) {
    const denied = exchange(f, p, request('OPTIONS', '/', ['host', 'a', 'origin', origin, 'access-control-request-method', 'GET']));
    assert.deepEqual(denied.rec.events, ['up:headers:end', 'down:200:end'], `${origin} passes through`);
    let cors = 0;
    denied.rec.response?.forEach((n) => {
      cors += n.startsWith('access-control-') ? 1 : 0;
    });
    assert.equal(cors, 0);
  }
  const none = exchange(f, p, request());
  assert.equal(none.rec.response?.has('vary'), false);
  assert.equal(counter(stats, 'http.web.cors.origin_allowed'), 4n);
  assert.equal(counter(stats, 'http.web.cors.origin_denied'), 3n);
});

test('fault: aborts a seeded share of requests with the configured status and flag FI', (t) => {
  const stats = region(t);
  const factory = createFaultFilter(seededRandom(42));
  const p = prepare(factory, { abort: { httpStatus: 503, percentage: 1.5 } }, stats, 'fault');
  const f = factory as HttpFilterFactory<unknown, typeof p>;
  const replay = seededRandom(42);
  let expected = 0;
  let aborted = 0;
  for (let i = 0; i < 2000; i++) {
    const hit = roll(replay, 1.5);
    if (hit) expected++;
    const { rec, info } = exchange(f, p, request());
    if (rec.response?.status === 503) {
      aborted++;
      assert.equal(info.responseFlags, 'FI');
      assert.ok(!rec.events.includes('up:headers:end'));
    }
  }
  assert.equal(aborted, expected);
  assert.ok(aborted > 10 && aborted < 60, `about 1.5 % of 2000: ${aborted}`);
  assert.equal(counter(stats, 'http.web.fault.aborts_injected'), BigInt(aborted));
});

test('fault: a delay holds the request, then lets it on; a client that leaves clears the timer; maxActiveFaults caps', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const stats = region(t);
  const factory = createFaultFilter(seededRandom(1));
  const p = prepare(factory, { delay: { fixedDelay: '2s' }, maxActiveFaults: 1 }, stats, 'fault');
  const f = factory as HttpFilterFactory<unknown, typeof p>;
  const active = stats.gauge('http.web.fault.active_faults');

  const one = new Recorder();
  const chain = new FilterChain([f.create(p)], streamInfo(), one, one, NO_STATS);
  chain.decodeHeaders(request(), true);
  assert.deepEqual(one.events, []);
  assert.equal(active.value(), 1n);
  const over = exchange(f, p, request());
  assert.deepEqual(over.rec.events, ['up:headers:end', 'down:200:end'], 'over the cap: no fault');
  assert.equal(counter(stats, 'http.web.fault.faults_overflow'), 1n);
  t.mock.timers.tick(2000);
  assert.deepEqual(one.events, ['up:headers:end']);
  assert.equal(chain.streamInfo.responseFlags, 'DI');
  assert.equal(active.value(), 0n);

  const gone = new Recorder();
  const left = new FilterChain([f.create(p)], streamInfo(), gone, gone, NO_STATS);
  left.decodeHeaders(request(), true);
  left.destroy();
  assert.equal(active.value(), 0n);
  t.mock.timers.tick(5000);
  assert.deepEqual(gone.events, [], 'the timer was cleared: nothing reaches the upstream');
  assert.equal(counter(stats, 'http.web.fault.delays_injected'), 2n);
});

test('fault: a delayed request that is also aborted is answered after the delay', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const stats = region(t);
  const factory = createFaultFilter(seededRandom(7));
  const p = prepare(factory, { delay: { fixedDelay: '1s', percentage: 100 }, abort: { httpStatus: 418 } }, stats, 'fault');
  const rec = new Recorder();
  const chain = new FilterChain([factory.create(p)], streamInfo(), rec, rec, NO_STATS);
  chain.decodeHeaders(request(), true);
  t.mock.timers.tick(999);
  assert.deepEqual(rec.events, []);
  t.mock.timers.tick(1);
  assert.deepEqual(rec.events, ['down:418', 'down:data:end']);
  assert.equal(chain.streamInfo.responseFlags, 'DI,FI');
});

test('fault: with headerOverrides a request tunes the configured faults, and cannot add one', (t) => {
  const stats = region(t);
  const factory = createFaultFilter(seededRandom(3));
  const p = prepare(factory, { abort: { httpStatus: 503, percentage: 0 }, headerOverrides: true }, stats, 'fault');
  const f = factory as HttpFilterFactory<unknown, typeof p>;
  const ask = (fields: string[]): number => exchange(f, p, request('GET', '/', ['host', 'a', ...fields])).rec.response?.status ?? 0;
  assert.equal(ask([]), 200);
  assert.equal(ask(['x-fault-abort-request-percentage', '100']), 503);
  assert.equal(ask(['x-fault-abort-request-percentage', '100', 'x-fault-abort-request', '429']), 429);
  assert.equal(ask(['x-fault-abort-request-percentage', '100', 'x-fault-abort-request', '99']), 503, 'a bad status is ignored');
  assert.equal(ask(['x-fault-delay-request', '10', 'x-fault-delay-request-percentage', '100']), 200, 'no delay is configured: none is added');
  const off = prepare(factory, { abort: { httpStatus: 503, percentage: 0 } }, stats, 'fault_2');
  assert.equal(exchange(f, off, request('GET', '/', ['host', 'a', 'x-fault-abort-request-percentage', '100'])).rec.response?.status, 200);
});
