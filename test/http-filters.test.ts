/*
 * The HTTP filter chain (order, Stop and continue, local replies, failures, onDestroy), the
 * header map, and `httpFilters:` in the config. The filters themselves: http-filter-kinds.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FilterStatus, type DecoderCallbacks, type EncoderCallbacks, type HttpFilter } from '../src/proxy/http/filter.js';
import { FilterChain } from '../src/proxy/http/filter-chain.js';
import { buildFilterChainFactory } from '../src/proxy/http/filter-chain-factory.js';
import { HeaderMapImpl, RequestHeaderMap, ResponseHeaderMap } from '../src/proxy/http/header-map.js';
import { parseConfig, type ConfigIssue, type HttpListenerConfig } from '../src/config/index.js';
import { isProxyctlError } from '../src/errors.js';
import { HTTP_FILTERS } from '../src/proxy/http/filters/index.js';
import { createLocalRateLimitFilter } from '../src/proxy/http/filters/local-rate-limit.js';
import { createFaultFilter } from '../src/proxy/http/filters/fault.js';
import { Recorder, region, request, streamInfo } from './fixtures/filter-util.js';

function counting(): { n: number; inc(): void } {
  return { n: 0, inc() { this.n++; } };
}

/** A filter that logs every callback to `log` under its name, and does what `act` says. */
function logging(name: string, log: string[], act: Partial<HttpFilter> = {}): HttpFilter & { destroyed: number } {
  const f = {
    destroyed: 0,
    decodeHeaders: (h: never, end: boolean, cb: DecoderCallbacks) => {
      log.push(`${name}.dh`);
      return act.decodeHeaders?.(h, end, cb) ?? FilterStatus.Continue;
    },
    decodeData: (d: Buffer, end: boolean, cb: DecoderCallbacks) => {
      log.push(`${name}.dd:${d.toString()}`);
      return act.decodeData?.(d, end, cb) ?? FilterStatus.Continue;
    },
    encodeHeaders: (h: never, end: boolean, cb: EncoderCallbacks) => {
      log.push(`${name}.eh`);
      return act.encodeHeaders?.(h, end, cb) ?? FilterStatus.Continue;
    },
    encodeData: (d: Buffer, end: boolean, cb: EncoderCallbacks) => {
      log.push(`${name}.ed`);
      return act.encodeData?.(d, end, cb) ?? FilterStatus.Continue;
    },
    onDestroy: () => {
      f.destroyed++;
      log.push(`${name}.destroy`);
    },
  };
  return f;
}

function chainOf(filters: HttpFilter[], limit?: number) {
  const rec = new Recorder();
  const stats = { filterError: counting(), bufferOverflow: counting() };
  const chain = new FilterChain(filters, streamInfo(), rec, rec, stats, limit);
  return { rec, stats, chain };
}

const ok = (): ResponseHeaderMap => new ResponseHeaderMap(200);

test('decoders run in order, encoders in reverse, then the terminal and the sink', () => {
  const log: string[] = [];
  const { rec, chain } = chainOf([logging('a', log), logging('b', log), logging('c', log)]);
  chain.decodeHeaders(request(), false);
  chain.decodeData(Buffer.from('x'), true);
  chain.encodeHeaders(ok(), false);
  chain.encodeData(Buffer.from('y'), true);
  assert.deepEqual(log, ['a.dh', 'b.dh', 'c.dh', 'a.dd:x', 'b.dd:x', 'c.dd:x', 'c.eh', 'b.eh', 'a.eh', 'c.ed', 'b.ed', 'a.ed', 'a.destroy', 'b.destroy', 'c.destroy']);
  assert.deepEqual(rec.events, ['up:headers', 'up:data:x:end', 'down:200', 'down:data:end']);
  assert.equal(chain.destroyed, true);
});

test('Stop holds the headers at that filter; data arriving meanwhile waits, unseen, and follows in order', () => {
  const log: string[] = [];
  let held: DecoderCallbacks | null = null;
  const b = logging('b', log, { decodeHeaders: (_h, _e, cb) => { held = cb; return FilterStatus.Stop; } });
  const { rec, chain } = chainOf([logging('a', log), b, logging('c', log)]);
  chain.decodeHeaders(request('POST'), false);
  chain.decodeData(Buffer.from('one'), false);
  chain.decodeData(Buffer.from('two'), true);
  assert.deepEqual(log, ['a.dh', 'b.dh']);
  assert.deepEqual(rec.events, []);
  assert.equal(chain.bufferedDecodeBytes, 6);
  (held as DecoderCallbacks | null)?.continueDecoding();
  assert.deepEqual(log, ['a.dh', 'b.dh', 'c.dh', 'a.dd:one', 'b.dd:one', 'c.dd:one', 'a.dd:two', 'b.dd:two', 'c.dd:two']);
  assert.deepEqual(rec.events, ['up:headers', 'up:data:one', 'up:data:two:end']);
  assert.equal(chain.bufferedDecodeBytes, 0);
});

test('a continue called inside the callback that returns Stop is a Continue; one from another filter is ignored', () => {
  const log: string[] = [];
  let aCb: DecoderCallbacks | null = null;
  const a = logging('a', log, { decodeHeaders: (_h, _e, cb) => { aCb = cb; return FilterStatus.Continue; } });
  const b = logging('b', log, { decodeHeaders: (_h, _e, cb) => { cb.continueDecoding(); return FilterStatus.Stop; }, decodeData: () => FilterStatus.Stop });
  const { rec, chain } = chainOf([a, b]);
  chain.decodeHeaders(request(), false);
  assert.deepEqual(rec.events, ['up:headers']);
  chain.decodeData(Buffer.from('d'), true);
  (aCb as DecoderCallbacks | null)?.continueDecoding();
  assert.deepEqual(rec.events, ['up:headers'], 'filter a holds nothing: its continue does not release b');
});

test('an encoder that stops holds the response; its continueEncoding sends it on with the data queued behind it', () => {
  const log: string[] = [];
  let held: EncoderCallbacks | null = null;
  const b = logging('b', log, { encodeHeaders: (_h, _e, cb) => { held = cb; return FilterStatus.Stop; } });
  const { rec, chain } = chainOf([logging('a', log), b, logging('c', log)]);
  chain.decodeHeaders(request(), true);
  chain.encodeHeaders(ok(), false);
  chain.encodeData(Buffer.from('body'), false);
  chain.encodeTrailers(HeaderMapImpl.fromFlat(['x-checksum', '1']));
  assert.deepEqual(rec.events, ['up:headers:end']);
  assert.deepEqual(log.filter((e) => e.includes('.e')), ['c.eh', 'b.eh']);
  (held as EncoderCallbacks | null)?.continueEncoding();
  assert.deepEqual(rec.events, ['up:headers:end', 'down:200', 'down:data', 'down:trailers']);
  assert.deepEqual(log.filter((e) => e.includes('.e')), ['c.eh', 'b.eh', 'a.eh', 'c.ed', 'b.ed', 'a.ed']);
  assert.equal(chain.destroyed, true, 'trailers end the response');
});

test('past the buffer limit a stopped request is answered 413 and counted', () => {
  const { rec, stats, chain } = chainOf([{ decodeHeaders: () => FilterStatus.Stop }], 4);
  chain.decodeHeaders(request('POST'), false);
  chain.decodeData(Buffer.from('abc'), false);
  assert.deepEqual(rec.events, []);
  chain.decodeData(Buffer.from('de'), false);
  assert.deepEqual(rec.events, ['down:413', 'down:data:end']);
  assert.equal(stats.bufferOverflow.n, 1);
});

test('a local reply from filter k skips later decoders and the router and runs through the encoders before k', () => {
  const log: string[] = [];
  const b = logging('b', log, { decodeHeaders: (_h, _e, cb) => { cb.sendLocalReply(403, 'no\n', { 'x-why': 'test' }, 'XX'); return FilterStatus.Stop; } });
  const { rec, chain } = chainOf([logging('a', log), b, logging('c', log)]);
  chain.decodeHeaders(request(), true);
  assert.deepEqual(log, ['a.dh', 'b.dh', 'a.eh', 'a.ed', 'a.destroy', 'b.destroy', 'c.destroy']);
  assert.deepEqual(rec.events, ['down:403', 'down:data:end']);
  assert.equal(rec.response?.get('content-type'), 'text/plain');
  assert.equal(rec.response?.get('content-length'), '3');
  assert.equal(rec.response?.get('x-why'), 'test');
  assert.equal(rec.text(), 'no\n');
  assert.equal(chain.streamInfo.responseFlags, 'XX');
  chain.encodeHeaders(ok(), true);
  assert.equal(rec.events.length, 2, 'nothing after the end');
});

test('a local reply once the request reached the router aborts the upstream; a HEAD reply has no body; a 204 has no length', () => {
  let cb: DecoderCallbacks | null = null;
  const { rec, chain } = chainOf([{ decodeData: (_d, _e, c) => { cb = c; return FilterStatus.Stop; } }]);
  chain.decodeHeaders(request('HEAD'), false);
  chain.decodeData(Buffer.from('x'), true);
  (cb as DecoderCallbacks | null)?.sendLocalReply(429, 'slow down\n');
  assert.deepEqual(rec.events, ['up:headers', 'up:abort', 'down:429:end']);
  assert.equal(rec.response?.get('content-length'), '10');

  const two = chainOf([{ decodeHeaders: (_h, _e, c) => { c.sendLocalReply(204, ''); return FilterStatus.Stop; } }]);
  two.chain.decodeHeaders(request('OPTIONS'), true);
  assert.deepEqual(two.rec.events, ['down:204:end']);
  assert.equal(two.rec.response?.has('content-length'), false);
});

test('a throwing decoder is a 500 through the earlier encoders and a counter; a throwing encoder a 500 straight to the sink', () => {
  const log: string[] = [];
  const bad: HttpFilter = { decodeHeaders: () => { throw new Error('boom'); } };
  const one = chainOf([logging('a', log), bad, logging('c', log)]);
  one.chain.decodeHeaders(request(), true);
  assert.deepEqual(one.rec.events, ['down:500', 'down:data:end']);
  assert.deepEqual(log, ['a.dh', 'a.eh', 'a.ed', 'a.destroy', 'c.destroy']);
  assert.equal(one.stats.filterError.n, 1);

  const two = chainOf([logging('a', log), { encodeHeaders: () => { throw new Error('boom'); } }]);
  two.chain.decodeHeaders(request(), true);
  two.chain.encodeHeaders(ok(), false);
  assert.deepEqual(two.rec.events, ['up:headers:end', 'up:abort', 'down:500', 'down:data:end'], 'the upstream response is dropped');
  assert.equal(two.stats.filterError.n, 1);
});

test('a filter that throws after the response head went out resets the stream', () => {
  const { rec, stats, chain } = chainOf([{ encodeData: () => { throw new Error('boom'); } }]);
  chain.decodeHeaders(request(), true);
  chain.encodeHeaders(ok(), false);
  chain.encodeData(Buffer.from('x'), true);
  assert.deepEqual(rec.events, ['up:headers:end', 'down:200', 'down:reset']);
  assert.equal(stats.filterError.n, 1);
  assert.equal(chain.destroyed, true);
});

test('onDestroy runs exactly once per filter: on completion, on destroy mid-flight, never while its callback runs', () => {
  const log: string[] = [];
  const a = logging('a', log);
  const done = chainOf([a]);
  done.chain.decodeHeaders(request(), true);
  done.chain.encodeHeaders(ok(), true);
  done.chain.destroy();
  assert.equal(a.destroyed, 1);

  const b = logging('b', log, { decodeHeaders: () => FilterStatus.Stop });
  const reset = chainOf([b]);
  reset.chain.decodeHeaders(request(), false);
  reset.chain.destroy();
  reset.chain.destroy();
  reset.chain.decodeData(Buffer.from('late'), true);
  assert.equal(b.destroyed, 1);

  const order: string[] = [];
  const c: HttpFilter = {
    decodeHeaders: (_h, _e, cb) => {
      cb.sendLocalReply(503, 'x');
      order.push('after reply');
      return FilterStatus.Stop;
    },
    onDestroy: () => order.push('destroy'),
  };
  chainOf([c]).chain.decodeHeaders(request(), true);
  assert.deepEqual(order, ['after reply', 'destroy']);
});

test('destroying a chain whose request reached the router aborts the upstream', () => {
  const { rec, chain } = chainOf([{}]);
  chain.decodeHeaders(request(), true);
  chain.destroy();
  assert.deepEqual(rec.events, ['up:headers:end', 'up:abort']);
});

test('header map: lower-case names, arrival order, multi-values joined except set-cookie, flat round trip', () => {
  const flat = ['Host', 'a.test', 'Accept', 'x', 'Set-Cookie', 'a=1', 'accept', 'y', 'set-cookie', 'b=2'];
  const m = HeaderMapImpl.fromFlat(flat);
  assert.deepEqual(m.serialize(), ['host', 'a.test', 'accept', 'x', 'set-cookie', 'a=1', 'accept', 'y', 'set-cookie', 'b=2']);
  assert.equal(m.get('ACCEPT'), 'x, y');
  assert.equal(m.get('set-cookie'), 'a=1');
  assert.deepEqual(m.getAll('set-cookie'), ['a=1', 'b=2']);
  m.set('accept', 'z');
  m.add('x-new', '1');
  m.remove('set-cookie');
  assert.deepEqual(m.serialize(), ['host', 'a.test', 'accept', 'z', 'x-new', '1']);
  const seen: string[] = [];
  m.forEach((n, v) => {
    seen.push(`${n}=${v}`);
  });
  assert.deepEqual(seen, ['host=a.test', 'accept=z', 'x-new=1']);
  assert.equal(m.has('set-cookie'), false);
});

test('header map: :authority and host are one field; HTTP/2 pseudo-headers become properties and come back', () => {
  const h2 = RequestHeaderMap.fromFlat([':method', 'POST', ':scheme', 'https', ':authority', 'a.test', ':path', '/p?q', 'content-type', 'x', 'host', 'a.test']);
  assert.deepEqual([h2.method, h2.scheme, h2.path, h2.authority], ['POST', 'https', '/p?q', 'a.test']);
  assert.deepEqual(h2.serializeH1(), ['host', 'a.test', 'content-type', 'x']);
  h2.authority = 'b.test';
  assert.equal(h2.get('host'), 'b.test');
  assert.deepEqual(h2.serializeH2(), [':method', 'POST', ':scheme', 'https', ':path', '/p?q', ':authority', 'b.test', 'content-type', 'x']);
  const res = ResponseHeaderMap.fromFlat([':status', '404', 'Server', 's']);
  assert.equal(res.status, 404);
  assert.deepEqual(res.serializeH2(), [':status', '404', 'server', 's']);
  assert.deepEqual(request('GET', '/', ['Host', 'c.test']).authority, 'c.test');
});

const HTTP_LISTENER = `listeners:
  - name: web
    address: 127.0.0.1:8080
    protocol: http
    routes: [{ match: { prefix: / }, directResponse: { status: 200 } }]
`;

function issues(filters: string): { line: number; col: number; path: string }[] {
  try {
    parseConfig(`${HTTP_LISTENER}    httpFilters:\n${filters}`, 'f.yaml', { cpus: 1 });
  } catch (err: unknown) {
    assert.ok(isProxyctlError(err, 'PROXYCTL_ERR_CONFIG_INVALID'));
    return (err.details.errors as ConfigIssue[]).map(({ line, col, path }) => ({ line, col, path }));
  }
  return assert.fail('expected the config to be refused');
}

test('httpFilters: the example config loads, normalized, and builds a chain factory', (t) => {
  const { config } = parseConfig(
    `${HTTP_LISTENER}    httpFilters:
      - headers: { request: { set: { x-client: "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%" } }, response: { remove: [server] } }
      - localRateLimit: { maxTokens: 100, tokensPerFill: 100, fillInterval: 1s }
      - cors: { allowOrigins: [{ exact: "https://app.example.com" }], allowMethods: [GET, POST] }
      - fault: { abort: { httpStatus: 503, percentage: 1.5 } }
      - localRateLimit: { maxTokens: 5, fillInterval: 250ms }
`,
    'f.yaml',
    { cpus: 1 },
  );
  const l = config.listeners[0] as HttpListenerConfig;
  assert.deepEqual(l.httpFilters?.map((f) => f.name), ['headers', 'localRateLimit', 'cors', 'fault', 'localRateLimit']);
  assert.deepEqual(l.httpFilters?.[1]?.config, { maxTokens: 100, tokensPerFill: 100, fillInterval: 1000, responseHeaders: false });
  const stats = region(t);
  const factory = buildFilterChainFactory(l, { stats, workers: 1 });
  assert.equal(factory.isEmpty, false);
  const names = [...stats.entries()].map((e) => e.name);
  assert.ok(names.includes('http.web.local_rate_limit.rate_limited') && names.includes('http.web.local_rate_limit_2.rate_limited'));
  // Through the factory: headers set on the request, CORS on the response, then the 6th of a
  // 5-token bucket (the second localRateLimit, on a frozen clock) answered 429; the fault
  // filter's dice never come up.
  const frozen = new Map(HTTP_FILTERS);
  frozen.set('localRateLimit', createLocalRateLimitFilter({ now: () => 1_000 }));
  frozen.set('fault', createFaultFilter(() => 0.99));
  const again = buildFilterChainFactory(l, { stats: region(t), workers: 1, registry: frozen });
  assert.deepEqual(again.names, ['headers', 'localRateLimit', 'cors', 'fault', 'localRateLimit']);
  const statuses: number[] = [];
  for (let i = 0; i < 6; i++) {
    const rec = new Recorder();
    const chain = again.create(streamInfo(), rec, rec);
    chain.decodeHeaders(request('GET', '/', ['host', 'a', 'origin', 'https://app.example.com']), true);
    if (rec.request !== null) {
      assert.equal(rec.request.get('x-client'), '192.0.2.7');
      const res = new ResponseHeaderMap(200);
      res.add('server', 'up');
      chain.encodeHeaders(res, true);
      assert.equal(rec.response?.has('server'), false);
    }
    assert.equal(rec.response?.get('access-control-allow-origin'), 'https://app.example.com', 'cors runs on the 429 too: it is before the limiter');
    statuses.push(rec.response?.status ?? 0);
  }
  assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429]);
  const plain = parseConfig(HTTP_LISTENER, 'f.yaml', { cpus: 1 }).config.listeners[0] as HttpListenerConfig;
  assert.equal(plain.httpFilters, undefined, 'no key, no change to the normalized config');
  assert.equal(buildFilterChainFactory(plain, { stats, workers: 1 }).isEmpty, true);
});

test('httpFilters errors name the place: file:line:col and the path into the filter config', () => {
  assert.deepEqual(issues('      - headers: {}\n      - localRateLimit: { maxTokens: 1, fillInterval: 10 }\n'), [
    { line: 8, col: 55, path: 'listeners[0].httpFilters[1].localRateLimit.fillInterval' },
  ]);
  assert.deepEqual(issues('      - nosuch: {}\n'), [{ line: 7, col: 9, path: 'listeners[0].httpFilters[0]' }]);
  assert.deepEqual(issues('      - { cors: { allowOrigins: [{ exact: a }] }, fault: { abort: { httpStatus: 503 } } }\n'), [{ line: 7, col: 9, path: 'listeners[0].httpFilters[0]' }]);
  assert.deepEqual(issues('      - headers: { response: { set: { x-a: "50%% %BOGUS%" } } }\n'), [
    { line: 7, col: 44, path: 'listeners[0].httpFilters[0].headers.response.set.x-a' },
  ]);
  assert.deepEqual(issues('      - headers: { request: { add: { x-u: "%UPSTREAM_HOST%" } } }\n'), [
    { line: 7, col: 43, path: 'listeners[0].httpFilters[0].headers.request.add.x-u' },
  ]);
  assert.deepEqual(issues('      - cors: { allowOrigins: [{ regex: "(" }], bogus: 1 }\n'), [
    { line: 7, col: 41, path: 'listeners[0].httpFilters[0].cors.allowOrigins[0].regex' },
    { line: 7, col: 49, path: 'listeners[0].httpFilters[0].cors.bogus' },
  ]);
  assert.deepEqual(issues('      - headers: { request: { add: { "Content-Length": "1", "a b": "x" }, remove: [connection] } }\n'), [
    { line: 7, col: 56, path: 'listeners[0].httpFilters[0].headers.request.add.Content-Length' },
    { line: 7, col: 68, path: 'listeners[0].httpFilters[0].headers.request.add["a b"]' },
    { line: 7, col: 84, path: 'listeners[0].httpFilters[0].headers.request.remove[0]' },
  ]);
  assert.deepEqual(issues('      - fault: { abort: { httpStatus: 503, percentage: 101 } }\n'), [
    { line: 7, col: 56, path: 'listeners[0].httpFilters[0].fault.abort.percentage' },
  ]);
});

test('a tcp listener may not have httpFilters', () => {
  try {
    parseConfig('listeners:\n  - { name: t, address: 127.0.0.1:9000, protocol: tcp, cluster: c, httpFilters: [] }\nclusters: [{ name: c, endpoints: [127.0.0.1:9001] }]\n', 'f.yaml', { cpus: 1 });
    assert.fail('expected the config to be refused');
  } catch (err: unknown) {
    assert.ok(isProxyctlError(err, 'PROXYCTL_ERR_CONFIG_INVALID'));
    assert.deepEqual((err.details.errors as ConfigIssue[]).map((e) => e.path), ['listeners[0].httpFilters']);
  }
});
