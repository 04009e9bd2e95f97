import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatIssue, parseConfig, type ConfigIssue } from '../src/config/index.js';
import { MAX_REGEX_LENGTH } from '../src/config/regex.js';
import { ExitCode, isProxyctlError } from '../src/errors.js';

/** `line:col path` of every issue parseConfig reports for `text`. */
function issuesOf(text: string): string[] {
  try {
    parseConfig(text, 'vh.yaml', { cpus: 1 });
  } catch (err: unknown) {
    assert.ok(isProxyctlError(err, 'PROXYCTL_ERR_CONFIG_INVALID'), `expected CONFIG_INVALID, got ${String(err)}`);
    assert.equal(err.exitCode, ExitCode.CONFIG);
    const errors = err.details.errors as ConfigIssue[];
    assert.equal(err.message, errors.map(formatIssue).join('\n'));
    return errors.map((e) => `${e.line}:${e.col} ${e.path}`);
  }
  assert.fail('expected the config to be refused');
}

const head = `listeners:
  - name: web
    address: 127.0.0.1:8080
    protocol: http
`;
const clusters = `clusters:
  - { name: users, endpoints: [127.0.0.1:9001] }
  - { name: blue, endpoints: [127.0.0.1:9002] }
`;

test('the example virtualHosts config normalizes to the documented shape', () => {
  const text = `${head}    pathWithEscapedSlashes: unescape
    virtualHosts:
      - name: api
        domains: [API.example.com, "*.api.example.com", "api.*", "*"]
        routes:
          - name: users
            match: { prefix: /users/, caseSensitive: false, headers: [{ name: X-Canary, exact: "1" }], queryParameters: [{ name: debug, present: true }], methods: [GET, HEAD] }
            cluster: users
            prefixRewrite: /
            hostRewrite: users.internal
            timeout: 15s
            perTryTimeout: 5s
            retryPolicy: { retryOn: [5xx, reset], numRetries: 2, backoff: { base: 25ms } }
          - match: { regex: "^/v[0-9]+/" }
            weightedClusters: [{ name: blue, weight: 90 }, { name: users, weight: 10 }]
          - match: { path: /old }
            redirect: { pathRedirect: /new, schemeRedirect: https }
${clusters}`;
  const l = parseConfig(text, 'vh.yaml', { cpus: 1 }).config.listeners[0];
  assert.deepEqual(l, {
    name: 'web',
    address: { host: '127.0.0.1', port: 8080 },
    protocol: 'http',
    http2: false,
    routes: [],
    pathWithEscapedSlashes: 'unescape',
    virtualHosts: [
      {
        name: 'api',
        domains: ['api.example.com', '*.api.example.com', 'api.*', '*'],
        routes: [
          {
            name: 'users',
            match: { prefix: '/users/', caseSensitive: false, headers: [{ name: 'x-canary', invert: false, exact: '1' }], queryParameters: [{ name: 'debug', present: true }], methods: ['GET', 'HEAD'] },
            prefixRewrite: '/',
            regexRewrite: null,
            hostRewrite: 'users.internal',
            timeoutMs: 15_000,
            perTryTimeoutMs: 5_000,
            retryPolicy: { retryOn: ['5xx', 'reset'], numRetries: 2, retriableStatusCodes: [], backoff: { baseMs: 25, maxMs: 250 } },
            cluster: 'users',
          },
          {
            name: null,
            match: { regex: '^/v[0-9]+/', caseSensitive: true, headers: [], queryParameters: [], methods: [] },
            prefixRewrite: null,
            regexRewrite: null,
            hostRewrite: null,
            timeoutMs: null,
            perTryTimeoutMs: null,
            retryPolicy: null,
            weightedClusters: [{ name: 'blue', weight: 90 }, { name: 'users', weight: 10 }],
          },
          {
            name: null,
            match: { path: '/old', caseSensitive: true, headers: [], queryParameters: [], methods: [] },
            prefixRewrite: null,
            regexRewrite: null,
            hostRewrite: null,
            timeoutMs: null,
            perTryTimeoutMs: null,
            retryPolicy: null,
            redirect: { schemeRedirect: 'https', hostRedirect: null, portRedirect: null, pathRedirect: '/new', prefixRewrite: null, stripQuery: false, responseCode: 301 },
          },
        ],
      },
    ],
  });
});

test('errors at their line:col: a bad regex, an unknown cluster, a duplicate domain, two actions', () => {
  const text = `${head}    virtualHosts:
      - name: a
        domains: [a.example.com, "*"]
        routes:
          - match: { regex: "^/(unclosed" }
            cluster: users
          - match: { prefix: / }
            cluster: nowhere
      - name: b
        domains: [b.example.com, A.Example.com]
        routes:
          - match: { prefix: / }
            cluster: users
            directResponse: { status: 200 }
          - match: { prefix: /w }
            weightedClusters: [{ name: blue, weight: 1 }, { name: gone, weight: 2 }]
${clusters}`;
  assert.deepEqual(issuesOf(text), [
    '9:29 listeners[0].virtualHosts[0].routes[0].match.regex',
    '12:22 listeners[0].virtualHosts[0].routes[1].cluster',
    '14:34 listeners[0].virtualHosts[1].domains[1]',
    '16:13 listeners[0].virtualHosts[1].routes[0]',
    '20:67 listeners[0].virtualHosts[1].routes[1].weightedClusters[1].name',
  ]);
});

test('listener form: routes or virtualHosts, exactly one; none on tcp', () => {
  const both = `${head}    routes: [{ match: { prefix: / }, cluster: users }]
    virtualHosts: [{ name: a, domains: ["*"], routes: [{ match: { prefix: / }, cluster: users }] }]
  - { name: t, address: 127.0.0.1:9, protocol: tcp, cluster: users, virtualHosts: [], normalizePath: true }
  - { name: n, address: 127.0.0.1:10, protocol: http, normalizePath: false, pathWithEscapedSlashes: reject }
${clusters}`;
  assert.deepEqual(issuesOf(both), [
    '6:5 listeners[0].virtualHosts',
    '7:69 listeners[1].virtualHosts',
    '7:83 listeners[1].virtualHosts', // and the schema's own "at least one virtual host" on its value
    '7:87 listeners[1].normalizePath',
    '8:5 listeners[2].routes',
    '8:77 listeners[2].pathWithEscapedSlashes',
  ]);
});

test('weights, enums, matchers and options that need another key', () => {
  const text = `${head}    virtualHosts:
      - name: a
        domains: ["a.*.b", "*"]
        routes:
          - match: { prefix: /, regex: "x" }
            weightedClusters: [{ name: blue, weight: 0 }, { name: users, weight: 1.5 }]
          - match: { regex: "^/x", caseSensitive: false, headers: [{ name: x, exact: "1", prefix: "1" }] }
            cluster: users
            prefixRewrite: /y
            retryPolicy: { retryOn: [5xx, sometimes], numRetries: 11 }
          - match: { prefix: /r, methods: [get] }
            redirect: { pathRedirect: /a, prefixRewrite: /b, responseCode: 300 }
            timeout: 1s
          - match: { path: /q, queryParameters: [{ name: a }] }
            cluster: users
            retryPolicy: { retryOn: [retriable-status-codes], backoff: { base: 1s, max: 10ms } }
          - match: { regex: "(?i)^/x" }
            cluster: users
          - match: { regex: "${'a'.repeat(MAX_REGEX_LENGTH + 1)}" }
            cluster: users
${clusters}`;
  assert.deepEqual(issuesOf(text), [
    '7:19 listeners[0].virtualHosts[0].domains[0]',
    '9:20 listeners[0].virtualHosts[0].routes[0].match',
    '10:54 listeners[0].virtualHosts[0].routes[0].weightedClusters[0].weight',
    '10:82 listeners[0].virtualHosts[0].routes[0].weightedClusters[1].weight',
    '11:36 listeners[0].virtualHosts[0].routes[1].match.caseSensitive',
    '11:68 listeners[0].virtualHosts[0].routes[1].match.headers[0]',
    '13:13 listeners[0].virtualHosts[0].routes[1].prefixRewrite',
    '14:43 listeners[0].virtualHosts[0].routes[1].retryPolicy.retryOn[1]',
    '14:67 listeners[0].virtualHosts[0].routes[1].retryPolicy.numRetries',
    '15:44 listeners[0].virtualHosts[0].routes[2].match.methods[0]',
    '16:43 listeners[0].virtualHosts[0].routes[2].redirect.prefixRewrite',
    '16:76 listeners[0].virtualHosts[0].routes[2].redirect.responseCode',
    '17:13 listeners[0].virtualHosts[0].routes[2].timeout',
    '18:50 listeners[0].virtualHosts[0].routes[3].match.queryParameters[0]',
    '20:26 listeners[0].virtualHosts[0].routes[3].retryPolicy.retriableStatusCodes',
    '20:89 listeners[0].virtualHosts[0].routes[3].retryPolicy.backoff.max',
    '21:29 listeners[0].virtualHosts[0].routes[4].match.regex',
    '23:29 listeners[0].virtualHosts[0].routes[5].match.regex',
  ]);
});

test('names: virtual hosts and routes are unique in their scope', () => {
  const text = `${head}    virtualHosts:
      - { name: a, domains: [x.test], routes: [{ name: r, match: { prefix: / }, cluster: users }, { name: r, match: { prefix: /b }, cluster: users }] }
      - { name: a, domains: [y.test], routes: [{ name: r, match: { prefix: / }, cluster: users }] }
${clusters}`;
  assert.deepEqual(issuesOf(text), ['6:107 listeners[0].virtualHosts[0].routes[1].name', '7:17 listeners[0].virtualHosts[1].name']);
});

test('match paths are printable ASCII, as a normalized request path is', () => {
  const text = `${head}    virtualHosts:
      - name: a
        domains: ["*"]
        routes:
          - { match: { prefix: "/caf\u00e9" }, cluster: users }
          - { match: { path: "/a b" }, cluster: users }
          - { match: { prefix: "/a#b" }, cluster: users }
          - { match: { prefix: "x" }, cluster: users }
          - { match: { prefix: "/caf%C3%A9" }, cluster: users }
${clusters}`;
  assert.deepEqual(issuesOf(text), [
    '9:32 listeners[0].virtualHosts[0].routes[0].match.prefix',
    '10:30 listeners[0].virtualHosts[0].routes[1].match.path',
    '11:32 listeners[0].virtualHosts[0].routes[2].match.prefix',
    '12:32 listeners[0].virtualHosts[0].routes[3].match.prefix',
  ]);
});

test('routes: shorthand errors come with positions, as in a virtual host', () => {
  const text = `${head}    routes:
      - match: { prefix: /a, path: /b }
        cluster: users
      - match: { prefix: /c }
        cluster: nowhere
      - match: { prefix: /d }
        directResponse: { status: 200 }
        timeout: 1s
${clusters}`;
  assert.deepEqual(issuesOf(text), ['6:16 listeners[0].routes[0].match', '9:18 listeners[0].routes[1].cluster', '12:9 listeners[0].routes[2].timeout']);
});
