import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rewriteAuthority, rewritePath, seededRandom, selectRoute } from '../src/proxy/router/index.js';
import { req, routeRaw, select, summary, tableFrom } from './fixtures/router-util.js';

const direct = (status: number): string => `directResponse: { status: ${status} }`;

test('domains: exact, then the longest *suffix, then the longest prefix*, then *', () => {
  const t = tableFrom(`    virtualHosts:
      - { name: exact, domains: [api.example.com], routes: [{ match: { prefix: / }, ${direct(201)} }] }
      - { name: short-suffix, domains: ["*.example.com"], routes: [{ match: { prefix: / }, ${direct(202)} }] }
      - { name: long-suffix, domains: ["*.api.example.com"], routes: [{ match: { prefix: / }, ${direct(203)} }] }
      - { name: short-prefix, domains: ["api.*"], routes: [{ match: { prefix: / }, ${direct(204)} }] }
      - { name: long-prefix, domains: ["api.example.*"], routes: [{ match: { prefix: / }, ${direct(205)} }] }
      - { name: any, domains: ["*"], routes: [{ match: { prefix: / }, ${direct(206)} }] }
`);
  const at = (authority: string): string => summary(select(t, '/', { authority }));
  assert.equal(at('api.example.com'), 'direct:201');
  assert.equal(at('API.Example.COM'), 'direct:201', 'case-insensitive');
  assert.equal(at('api.example.com:8443'), 'direct:201', 'the port is ignored');
  assert.equal(at('v1.api.example.com'), 'direct:203', 'the longest suffix wins');
  assert.equal(at('www.example.com'), 'direct:202');
  assert.equal(at('example.com'), 'direct:206', 'a wildcard stands for at least one character');
  assert.equal(at('api.example.org'), 'direct:205', 'the longest prefix wins');
  assert.equal(at('api.other'), 'direct:204');
  assert.equal(at('v1.api.example.org'), 'direct:206');
  assert.equal(at(''), 'direct:206');
  assert.equal(at('[::1]:8080'), 'direct:206');
});

test('domains: a domain that names a port matches only that port and beats the portless one; no match is a 404', () => {
  const t = tableFrom(`    virtualHosts:
      - { name: plain, domains: [a.test], routes: [{ match: { prefix: / }, ${direct(201)} }] }
      - { name: tls, domains: ["a.test:8443", "[::1]:9000"], routes: [{ match: { prefix: / }, ${direct(202)} }] }
`);
  const at = (authority: string): string => summary(select(t, '/', { authority }));
  assert.equal(at('a.test:8443'), 'direct:202');
  assert.equal(at('A.TEST:8443'), 'direct:202');
  assert.equal(at('a.test:8080'), 'direct:201');
  assert.equal(at('a.test'), 'direct:201');
  assert.equal(at('[::1]:9000'), 'direct:202');
  assert.equal(at('b.test'), 'reject:404:no-virtual-host');
  assert.equal(summary(select(t, '/', { authority: '[::1]' })), 'reject:404:no-virtual-host');
});

const MATCHERS = `    virtualHosts:
      - name: api
        domains: ["*"]
        routes:
          - { name: exact, match: { path: /exact }, ${direct(201)} }
          - { name: exact-ci, match: { path: /Mixed, caseSensitive: false }, ${direct(202)} }
          - { name: prefix-ci, match: { prefix: /CI/, caseSensitive: false }, ${direct(203)} }
          - { name: regex, match: { regex: "^/v[0-9]+/" }, ${direct(204)} }
          - { name: canary, match: { prefix: /h/, headers: [{ name: X-Canary, exact: "1" }] }, ${direct(205)} }
          - { name: hp, match: { prefix: /h/, headers: [{ name: x-ua, prefix: curl/ }] }, ${direct(206)} }
          - { name: hs, match: { prefix: /h/, headers: [{ name: x-ua, suffix: bot }] }, ${direct(207)} }
          - { name: hr, match: { prefix: /h/, headers: [{ name: x-ua, regex: "^Mozilla/[45]" }] }, ${direct(208)} }
          - { name: hpresent, match: { prefix: /h/, headers: [{ name: x-debug, present: true }] }, ${direct(209)} }
          - { name: hnot, match: { prefix: /h/, headers: [{ name: x-env, exact: prod, invert: true }] }, ${direct(210)} }
          - { name: habsent, match: { prefix: /h/, headers: [{ name: cookie, present: true, invert: true }] }, ${direct(211)} }
          - { name: q, match: { prefix: /q, queryParameters: [{ name: debug, exact: "1" }, { name: v, regex: "^[0-9]+$" }] }, ${direct(212)} }
          - { name: qp, match: { prefix: /q, queryParameters: [{ name: trace, present: true }] }, ${direct(213)} }
          - { name: methods, match: { prefix: /m, methods: [POST, PUT] }, ${direct(214)} }
          - { name: rest, match: { prefix: / }, ${direct(299)} }
`;

test('path matchers: exact ignores the query, case sensitivity, regex searches the path', () => {
  const t = tableFrom(MATCHERS);
  const at = (target: string, init = {}): string => summary(select(t, target, init));
  assert.equal(at('/exact'), 'direct:201');
  assert.equal(at('/exact?x=1'), 'direct:201');
  assert.equal(at('/exact/'), 'direct:299');
  assert.equal(at('/EXACT'), 'direct:299', 'exact is case-sensitive by default');
  assert.equal(at('/mIxEd'), 'direct:202');
  assert.equal(at('/ci/x'), 'direct:203');
  assert.equal(at('/Ci/X'), 'direct:203');
  assert.equal(at('/v12/users'), 'direct:204');
  assert.equal(at('/v/users'), 'direct:299');
  assert.equal(at('/x/v1/'), 'direct:299', 'the regex is anchored with ^');
  const named = (target: string): string => {
    const d = select(t, target);
    return d.kind === 'reject' ? '-' : d.route.name;
  };
  assert.equal(named('/v2/'), 'regex');
  assert.equal(named('/anything'), 'rest');
});

test('header matchers: each kind, invert, absent headers', () => {
  const t = tableFrom(MATCHERS);
  const at = (headers: Record<string, string>): string => summary(select(t, '/h/', { headers: { cookie: 'c', 'x-env': 'prod', ...headers } }));
  assert.equal(at({ 'x-canary': '1' }), 'direct:205', 'header names are case-insensitive');
  assert.equal(at({ 'x-canary': '10' }), 'direct:299');
  assert.equal(at({ 'x-ua': 'curl/8.1' }), 'direct:206');
  assert.equal(at({ 'x-ua': 'googlebot' }), 'direct:207');
  assert.equal(at({ 'x-ua': 'Mozilla/5.0' }), 'direct:208');
  assert.equal(at({ 'x-ua': 'Mozilla/3.0' }), 'direct:299');
  assert.equal(at({ 'x-debug': '' }), 'direct:209', 'present matches an empty value');
  assert.equal(at({ 'x-env': 'staging' }), 'direct:210', 'invert: any other value');
  assert.equal(summary(select(t, '/h/', { headers: { cookie: 'c' } })), 'direct:210', 'invert: an absent header matches an inverted exact');
  assert.equal(summary(select(t, '/h/', { headers: { 'x-env': 'prod' } })), 'direct:211', 'present + invert = absent');
});

test('query parameter and method matchers', () => {
  const t = tableFrom(MATCHERS);
  const at = (target: string, method = 'GET'): string => summary(select(t, target, { method }));
  assert.equal(at('/q?debug=1&v=42'), 'direct:212');
  assert.equal(at('/q?v=42&debug=%31'), 'direct:212', 'values are compared percent-decoded');
  assert.equal(at('/q?debug=1&v=4x'), 'direct:299');
  assert.equal(at('/q?debug=1'), 'direct:299');
  assert.equal(at('/q?trace'), 'direct:213', 'present with no value');
  assert.equal(at('/q?tracer=1'), 'direct:299');
  assert.equal(at('/q?Trace=1'), 'direct:299', 'names are case-sensitive');
  assert.equal(at('/m', 'POST'), 'direct:214');
  assert.equal(at('/m', 'PUT'), 'direct:214');
  assert.equal(at('/m', 'GET'), 'direct:299');
  assert.equal(at('/m', 'post'), 'direct:299', 'methods are case-sensitive');
});

test('header and query accessors are only called for routes that have such matchers', () => {
  const t = tableFrom(MATCHERS);
  const r = req('/exact?debug=1');
  assert.equal(summary(selectRoute(t, r)), 'direct:201');
  assert.equal(r.headerCalls + r.queryCalls, 0);
  const canary = req('/h/', { headers: { 'x-canary': '1' } });
  assert.equal(summary(selectRoute(t, canary)), 'direct:205');
  assert.deepEqual([canary.headerCalls, canary.queryCalls], [1, 0]);
  const plain = tableFrom(`    routes:\n      - { match: { prefix: / }, cluster: app }\n`);
  const r2 = req('/x?y=1', { authority: 'whatever' });
  assert.equal(summary(selectRoute(plain, r2)), 'cluster:app');
  assert.equal(r2.headerCalls + r2.queryCalls, 0);
});

test('weighted clusters: 90/10 within ±2% over 10 000 seeded picks, and every decision names its route', () => {
  const t = tableFrom(`    virtualHosts:
      - name: app
        domains: ["*"]
        routes:
          - { name: split, match: { prefix: / }, weightedClusters: [{ name: blue, weight: 90 }, { name: green, weight: 10 }] }
`);
  for (const seed of [1, 42, 20261201]) {
    const random = seededRandom(seed);
    const counts = new Map<string, number>();
    for (let i = 0; i < 10_000; i++) {
      const d = select(t, '/x', {}, random);
      assert.ok(d.kind === 'cluster' && d.route.name === 'split');
      counts.set(d.clusterName, (counts.get(d.clusterName) ?? 0) + 1);
    }
    const blue = (counts.get('blue') ?? 0) / 10_000;
    assert.ok(Math.abs(blue - 0.9) <= 0.02, `seed ${seed}: blue got ${blue}`);
    assert.equal((counts.get('blue') ?? 0) + (counts.get('green') ?? 0), 10_000);
  }
  // The edges of the random source land on the first and last cluster.
  assert.equal(summary(select(t, '/', {}, () => 0)), 'cluster:blue');
  assert.equal(summary(select(t, '/', {}, () => 0.8999)), 'cluster:blue');
  assert.equal(summary(select(t, '/', {}, () => 0.9)), 'cluster:green');
  assert.equal(summary(select(t, '/', {}, () => 0.999999)), 'cluster:green');
});

test('a three-way split with uneven weights follows the weights', () => {
  const t = tableFrom(`    virtualHosts:
      - { name: a, domains: ["*"], routes: [{ match: { prefix: / }, weightedClusters: [{ name: blue, weight: 1 }, { name: green, weight: 2 }, { name: canary, weight: 7 }] }] }
`);
  const random = seededRandom(7);
  const counts: Record<string, number> = {};
  for (let i = 0; i < 10_000; i++) {
    const d = select(t, '/', {}, random);
    if (d.kind === 'cluster') counts[d.clusterName] = (counts[d.clusterName] ?? 0) + 1;
  }
  for (const [name, share] of [['blue', 0.1], ['green', 0.2], ['canary', 0.7]] as const) {
    assert.ok(Math.abs((counts[name] ?? 0) / 10_000 - share) <= 0.02, `${name}: ${counts[name]}`);
  }
});

test('cluster decisions carry the rewrites, timeouts and retry policy; rewritePath and rewriteAuthority apply them', () => {
  const t = tableFrom(`    virtualHosts:
      - name: api
        domains: ["*"]
        routes:
          - name: users
            match: { prefix: /users/ }
            cluster: users
            prefixRewrite: /
            hostRewrite: users.internal
            timeout: 15s
            perTryTimeout: 5s
            retryPolicy: { retryOn: [5xx, gateway-error, connect-failure, reset], numRetries: 2, backoff: { base: 25ms, max: 250ms } }
          - { name: rx, match: { prefix: /img/ }, cluster: app, regexRewrite: { pattern: "/(\\\\d+)x(\\\\d+)/", substitution: "/$2/$1/" }, timeout: 0s }
          - { name: plain, match: { prefix: / }, cluster: app }
`);
  const d = select(t, '/users/42?x=/users/');
  assert.ok(d.kind === 'cluster');
  assert.equal(d.clusterName, 'users');
  assert.equal(d.route.virtualHost, 'api');
  assert.equal(d.route.timeoutMs, 15_000);
  assert.equal(d.route.perTryTimeoutMs, 5_000);
  assert.deepEqual(d.route.retryPolicy, { retryOn: ['5xx', 'gateway-error', 'connect-failure', 'reset'], numRetries: 2, retriableStatusCodes: [], backoff: { baseMs: 25, maxMs: 250 } });
  assert.equal(d.route.rewrites, true);
  assert.equal(rewritePath(d.route, '/users/42?x=/users/'), '/42?x=/users/');
  assert.equal(rewriteAuthority(d.route, 'api.example.com'), 'users.internal');
  const rx = select(t, '/img/10x20/a/30x40/?s=1x2');
  assert.ok(rx.kind === 'cluster');
  assert.equal(rx.route.timeoutMs, 0);
  assert.equal(rewritePath(rx.route, '/img/10x20/a/30x40/?s=/1x2/'), '/img/20/10/a/40/30/?s=/1x2/', 'every match, never in the query');
  assert.equal(rewriteAuthority(rx.route, 'h:1'), 'h:1');
  const plain = select(t, '/other');
  assert.ok(plain.kind === 'cluster');
  assert.equal(plain.route.rewrites, false);
  assert.equal(plain.route.timeoutMs, null);
  assert.equal(plain.route.retryPolicy, null);
  const p = '/other?q';
  assert.equal(rewritePath(plain.route, p), p);
  // Decisions of fixed routes are shared, not made per request.
  assert.equal(select(t, '/users/1'), select(t, '/users/2'));
});

test('redirects: the Location for each option', () => {
  const t = tableFrom(`    virtualHosts:
      - name: r
        domains: ["*"]
        routes:
          - { match: { prefix: /old/ }, redirect: { pathRedirect: /new/, responseCode: 301 } }
          - { match: { prefix: /pq/ }, redirect: { pathRedirect: "/fixed?a=1", responseCode: 302 } }
          - { match: { prefix: /pre/ }, redirect: { prefixRewrite: /post/, responseCode: 303 } }
          - { match: { prefix: /tls/ }, redirect: { schemeRedirect: https, responseCode: 308 } }
          - { match: { prefix: /host/ }, redirect: { hostRedirect: Other.Example, responseCode: 307 } }
          - { match: { prefix: /port/ }, redirect: { portRedirect: 8443 } }
          - { match: { prefix: /strip/ }, redirect: { stripQuery: true } }
          - { match: { prefix: /all/ }, redirect: { schemeRedirect: https, hostRedirect: x.test, portRedirect: 443, prefixRewrite: /, stripQuery: true } }
          - { match: { prefix: /keep/ }, redirect: { schemeRedirect: http } }
`);
  const loc = (target: string, authority = 'Ex.test:8080', scheme: 'http' | 'https' = 'http'): string => summary(select(t, target, { authority, scheme }));
  assert.equal(loc('/old/a?q=1'), 'redirect:301 http://ex.test:8080/new/?q=1');
  assert.equal(loc('/pq/a?q=1'), 'redirect:302 http://ex.test:8080/fixed?a=1', "pathRedirect's own query replaces the request's");
  assert.equal(loc('/pre/a/b?q=1'), 'redirect:303 http://ex.test:8080/post/a/b?q=1');
  assert.equal(loc('/tls/x?y'), 'redirect:308 https://ex.test/tls/x?y', 'a scheme change drops the port');
  assert.equal(loc('/tls/x', 'ex.test'), 'redirect:308 https://ex.test/tls/x');
  assert.equal(loc('/host/x?y'), 'redirect:307 http://other.example/host/x?y', 'another host drops the port');
  assert.equal(loc('/port/x'), 'redirect:301 http://ex.test:8443/port/x');
  assert.equal(loc('/port/x', 'ex.test', 'https'), 'redirect:301 https://ex.test:8443/port/x');
  assert.equal(loc('/strip/x?a=1&b=2'), 'redirect:301 http://ex.test:8080/strip/x');
  assert.equal(loc('/all/x/y?z'), 'redirect:301 https://x.test/x/y', 'the default port of the scheme is not written');
  assert.equal(loc('/keep/x', 'ex.test:80'), 'redirect:301 http://ex.test/keep/x');
  assert.equal(loc('/keep/x', '[::1]:8080'), 'redirect:301 http://[::1]:8080/keep/x');
  assert.equal(loc('/old/../old/a'), 'redirect:301 http://ex.test:8080/new/', 'the normalized path is the one redirected');
  assert.equal(loc('/old/a', ''), 'redirect:301 /new/', 'no authority: a relative Location');
});

test('a routes: listener routes as before: first prefix wins, direct responses, 404 when none', () => {
  const t = tableFrom(`    routes:
      - { match: { prefix: /health }, directResponse: { status: 200, body: "ok\\n" } }
      - { match: { prefix: /api/ }, cluster: app }
`);
  const h = select(t, '/healthz');
  assert.ok(h.kind === 'direct');
  assert.deepEqual(h.response, { status: 200, body: 'ok\n' });
  assert.equal(h.route.name, 'web/0');
  assert.equal(summary(select(t, '/api/x', { authority: 'any.host' })), 'cluster:app');
  assert.equal(summary(select(t, '/apix')), 'reject:404:no-route');
});

test('routeHttp1: the byte-loop fast path, forwarded path, absolute-form and Host', () => {
  const t = tableFrom(`    routes:
      - { match: { prefix: /api/ }, cluster: app }
      - { match: { prefix: / }, directResponse: { status: 204 } }
`);
  const get = (target: string, host = 'h'): ReturnType<typeof routeRaw> => routeRaw(t, `GET ${target} HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
  const fast = get('/api/x?y=1');
  assert.equal(summary(fast.decision), 'cluster:app');
  assert.equal(fast.forwarded, null, 'an already-normal path is forwarded as sent');
  const dotted = get('/x/../api/%7Euser');
  assert.equal(summary(dotted.decision), 'cluster:app', 'matched after normalization');
  assert.equal(dotted.forwarded, '/api/~user', 'and forwarded normalized');
  const abs = get('http://Other.Host:81/a/../api/b?q=1/../x');
  assert.equal(summary(abs.decision), 'cluster:app');
  assert.equal(abs.forwarded, '/api/b?q=1/../x');
  assert.equal(abs.view.authority, 'Other.Host:81', "absolute-form's authority wins over Host");
  assert.equal(summary(get('/%zz').decision), 'reject:400:bad-path');
  assert.equal(summary(get('*').decision), 'reject:400:bad-path');
  assert.equal(summary(get('/a#frag').decision), 'reject:400:bad-path');
});

test('routeHttp1: virtual hosts, headers and methods read from the raw head', () => {
  const t = tableFrom(`    pathWithEscapedSlashes: reject
    virtualHosts:
      - name: api
        domains: [api.example.com]
        routes:
          - { match: { prefix: /, methods: [DELETE], headers: [{ name: x_token, exact: "a, b" }] }, ${direct(202)} }
          - { match: { prefix: /, headers: [{ name: x-canary, present: true }] }, ${direct(201)} }
          - { match: { prefix: / }, cluster: app }
      - { name: other, domains: ["*"], routes: [{ match: { prefix: / }, ${direct(204)} }] }
`);
  const raw = (lines: string): string => summary(routeRaw(t, `${lines}\r\n\r\n`).decision);
  assert.equal(raw('GET / HTTP/1.1\r\nHost: API.example.com:80\r\nX-Canary: yes'), 'direct:201');
  assert.equal(raw('GET / HTTP/1.1\r\nHost: api.example.com'), 'cluster:app');
  assert.equal(raw('DELETE / HTTP/1.1\r\nX_Token: a\r\nHost: api.example.com\r\nx_token:  b '), 'direct:202', 'repeated lines join with ", "');
  assert.equal(raw('GET / HTTP/1.1\r\nHost: www.example.com'), 'direct:204');
  assert.equal(raw('GET / HTTP/1.0'), 'direct:204', 'no Host: only * matches');
  assert.equal(raw('GET /a%2Fb HTTP/1.1\r\nHost: api.example.com'), 'reject:400:escaped-slash');
});

test('the routes: shorthand takes the full route shape of a virtual host, on every authority', () => {
  const t = tableFrom(`    routes:
      - match: { prefix: /api/, methods: [POST], headers: [{ name: x-canary, exact: "1" }] }
        weightedClusters: [{ name: canary, weight: 1 }]
      - match: { prefix: /api/ }
        cluster: app
        prefixRewrite: /
        retryPolicy: { retryOn: [5xx], numRetries: 2 }
      - match: { path: /old }
        redirect: { pathRedirect: /new }
      - match: { regex: "^/v[0-9]+$" }
        directResponse: { status: 204 }
`);
  assert.equal(summary(select(t, '/api/x', { method: 'POST', headers: { 'x-canary': '1' }, authority: 'a.example' })), 'cluster:canary');
  assert.equal(summary(select(t, '/api/x', { method: 'POST', authority: 'b.example' })), 'cluster:app');
  assert.equal(summary(select(t, '/old')), 'redirect:301 http://example.com/new');
  assert.equal(summary(select(t, '/v2')), 'direct:204');
  assert.equal(summary(select(t, '/v2/x')), 'reject:404:no-route');
});
