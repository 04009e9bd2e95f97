/**
 * The cluster keys of proxyctl.yaml(5): discovery, load balancing, health checks, outlier
 * detection and circuit breakers normalize to the documented shape with Envoy's defaults,
 * and each mistake comes out at its line:col with its path.
 */
import assert from 'node:assert/strict';
import test from 'node:test';
import { parseConfig } from '../src/config/index.js';
import type { ConfigIssue } from '../src/config/types.js';
import { isProxyctlError } from '../src/errors.js';

const BASE = 'listeners:\n  - { name: l, address: 127.0.0.1:1, protocol: tcp, cluster: c }\nclusters:\n';

function clusters(text: string): ReturnType<typeof parseConfig>['config']['clusters'] {
  return parseConfig(BASE + text, '/etc/proxyctl/test.yaml', { cpus: 1 }).config.clusters;
}

function issuesOf(text: string): string[] {
  try {
    parseConfig(BASE + text, 'test.yaml', { cpus: 1 });
  } catch (err: unknown) {
    assert.ok(isProxyctlError(err, 'PROXYCTL_ERR_CONFIG_INVALID'));
    return (err.details.errors as ConfigIssue[]).map((e) => `${e.line}:${e.col} ${e.path}`);
  }
  return assert.fail('expected the config to be refused');
}

test('a static cluster with only endpoints gets every default: round robin, no checks, Envoy circuit breakers', () => {
  assert.deepEqual(clusters('  - { name: c, endpoints: [127.0.0.1:2] }\n')[0], {
    name: 'c',
    discovery: 'static',
    endpoints: [{ host: '127.0.0.1', port: 2, weight: 1, locality: null, metadata: null }],
    dns: null,
    file: null,
    protocol: 'http1',
    lb: 'roundRobin',
    hashOn: null,
    choiceCount: 2,
    ringSize: 1024,
    maglevTableSize: 65537,
    slowStart: null,
    healthyPanicThreshold: 50,
    healthCheck: null,
    outlierDetection: null,
    circuitBreakers: { maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 3 },
    maxRequestsPerConnection: null,
  });
});

test("the issue's example cluster normalizes key for key", () => {
  const [c] = clusters(
    [
      '  - name: c',
      '    discovery: static',
      '    endpoints: [127.0.0.1:9001, { address: 127.0.0.1:9002, weight: 3, locality: { zone: z1 }, metadata: { canary: true } }]',
      '    lb: ringHash',
      '    hashOn: { header: x-user }',
      '    healthCheck: { http: { path: /healthz, expectedStatuses: [200, "300-399"] }, interval: 1s, timeout: 500ms, unhealthyThreshold: 2, healthyThreshold: 1 }',
      '    outlierDetection: { consecutive5xx: 3, baseEjectionTime: 10s, maxEjectionPercent: 50 }',
      '    circuitBreakers: { maxConnections: 100, maxPendingRequests: 64, maxRequests: 200, maxRetries: 1 }',
      '',
    ].join('\n'),
  );
  assert.ok(c !== undefined);
  assert.deepEqual(c.endpoints[1], { host: '127.0.0.1', port: 9002, weight: 3, locality: { zone: 'z1' }, metadata: { canary: true } });
  assert.equal(c.lb, 'ringHash');
  assert.deepEqual(c.hashOn, { header: 'x-user' });
  assert.deepEqual(c.healthCheck, { http: { path: '/healthz', host: null, expectedStatuses: [[200, 200], [300, 399]] }, tcp: null, intervalMs: 1000, jitterMs: 100, timeoutMs: 500, unhealthyThreshold: 2, healthyThreshold: 1 });
  assert.deepEqual(c.outlierDetection, { consecutive5xx: 3, consecutiveGatewayFailure: 5, intervalMs: 10_000, baseEjectionTimeMs: 10_000, maxEjectionTimeMs: 300_000, maxEjectionPercent: 50, successRate: null });
  assert.deepEqual(c.circuitBreakers, { maxConnections: 100, maxPendingRequests: 64, maxRequests: 200, maxRetries: 1 });
});

test('strictDns and file discovery: their blocks normalize; a relative endpoints file resolves against the config file', () => {
  const [dns, file] = clusters(
    '  - { name: c, discovery: strictDns, dns: { name: app.internal, port: 9001, resolvers: ["127.0.0.1:5353"] } }\n' +
      '  - { name: f, discovery: file, file: endpoints.yaml, lb: leastRequest, leastRequest: { choiceCount: 3 }, slowStart: { window: 30s } }\n',
  );
  assert.deepEqual(dns?.dns, { name: 'app.internal', port: 9001, refreshRateMs: 5000, resolvers: [{ host: '127.0.0.1', port: 5353 }], family: 'all' });
  assert.deepEqual(dns?.endpoints, []);
  assert.deepEqual(file?.file, { path: '/etc/proxyctl/endpoints.yaml' });
  assert.equal(file?.choiceCount, 3);
  assert.deepEqual(file?.slowStart, { windowMs: 30_000, aggression: 1, minWeightPercent: 10 });
});

test('the older cluster-level limits still work, and setting one in both places is refused at the key', () => {
  const [c] = clusters('  - { name: c, endpoints: [127.0.0.1:2], protocol: http2, maxConnections: 2, maxPendingRequests: 0, maxRequestsPerConnection: 100 }\n');
  assert.deepEqual(c?.circuitBreakers, { maxConnections: 2, maxPendingRequests: 0, maxRequests: 1024, maxRetries: 3 });
  assert.equal(c?.maxRequestsPerConnection, 100);
  assert.equal(c?.protocol, 'http2');
  assert.deepEqual(issuesOf('  - name: c\n    endpoints: [127.0.0.1:2]\n    maxConnections: 2\n    circuitBreakers: { maxConnections: 3 }\n'), ['6:5 clusters[0].maxConnections']);
});

test('out-of-range values point at the key', () => {
  assert.deepEqual(issuesOf('  - name: c\n    endpoints: [127.0.0.1:2]\n    protocol: h3\n    maxConnections: 0\n    maxPendingRequests: -1\n    maxRequestsPerConnection: 1.5\n'), [
    '6:15 clusters[0].protocol',
    '7:21 clusters[0].maxConnections',
    '8:25 clusters[0].maxPendingRequests',
    '9:31 clusters[0].maxRequestsPerConnection',
  ]);
  assert.deepEqual(issuesOf('  - name: c\n    endpoints: [{ address: 127.0.0.1:2, weight: 0 }]\n    lb: maglev\n    maglev: { tableSize: 65536 }\n    healthyPanicThreshold: 101\n'), [
    '5:49 clusters[0].endpoints[0].weight',
    '7:26 clusters[0].maglev.tableSize',
    '8:28 clusters[0].healthyPanicThreshold',
  ]);
});

test('keys that do not fit the discovery type or the policy are refused where they are written', () => {
  assert.deepEqual(issuesOf('  - { name: c, discovery: strictDns, endpoints: [127.0.0.1:2] }\n'), ['4:5 clusters[0].dns', '4:38 clusters[0].endpoints']);
  assert.deepEqual(issuesOf('  - { name: c, discovery: file }\n'), ['4:5 clusters[0].file']);
  assert.deepEqual(issuesOf('  - { name: c, endpoints: [] }\n'), ['4:27 clusters[0].endpoints']);
  assert.deepEqual(issuesOf('  - { name: c, endpoints: [127.0.0.1:2], hashOn: { header: x }, ringHash: {}, lb: random }\n'), ['4:65 clusters[0].ringHash']);
  assert.deepEqual(issuesOf('  - { name: c, endpoints: [127.0.0.1:2], lb: maglev, slowStart: { window: 1s } }\n'), ['4:54 clusters[0].slowStart']);
  assert.deepEqual(issuesOf('  - { name: c, endpoints: [127.0.0.1:2], healthCheck: { interval: 1s } }\n'), ['4:55 clusters[0].healthCheck']);
  assert.deepEqual(issuesOf('  - { name: c, endpoints: [127.0.0.1:2, "127.0.0.1:2"] }\n'), ['4:41 clusters[0].endpoints[1]']);
  assert.deepEqual(issuesOf('  - { name: c, endpoints: [127.0.0.1:2], healthCheck: { tcp: { send: "abc" } } }\n'), ['4:70 clusters[0].healthCheck.tcp.send']);
});

test("a route's per-try timeout may sit in its retryPolicy, as Envoy spells it, but not in both places", () => {
  const web = (route: string): string => `listeners:\n  - name: web\n    address: 127.0.0.1:1\n    protocol: http\n    routes:\n      - match: { prefix: / }\n        cluster: c\n${route}clusters:\n  - { name: c, endpoints: [127.0.0.1:2] }\n`;
  const { config } = parseConfig(web('        retryPolicy: { retryOn: [connect-failure, gateway-error], numRetries: 2, perTryTimeout: 2s }\n'), 'test.yaml', { cpus: 1 });
  const l = config.listeners[0];
  assert.ok(l?.protocol === 'http');
  assert.equal(l.routes[0]?.perTryTimeoutMs, 2000);
  try {
    parseConfig(web('        perTryTimeout: 1s\n        retryPolicy: { retryOn: [reset], perTryTimeout: 2s }\n'), 'test.yaml', { cpus: 1 });
    assert.fail('expected the config to be refused');
  } catch (err: unknown) {
    assert.ok(isProxyctlError(err, 'PROXYCTL_ERR_CONFIG_INVALID'));
    assert.deepEqual((err.details.errors as ConfigIssue[]).map((e) => `${e.line}:${e.col} ${e.path}`), ['9:42 listeners[0].routes[0].retryPolicy.perTryTimeout']);
  }
});

test("the issue's config validates exactly as written, comments and all", () => {
  const text = [
    'clusters:',
    '  - name: app',
    '    discovery: static            # static | strictDns | file',
    '    endpoints: [127.0.0.1:9001, { address: 127.0.0.1:9002, weight: 3 }]',
    '    # dns: { name: app.internal, port: 9001, refreshRate: 5s, resolvers: [127.0.0.1:5353] }',
    '    # file: ./app-endpoints.yaml',
    '    lb: roundRobin               # roundRobin | leastRequest | random | ringHash | maglev',
    '    hashOn: { header: x-user }   # ringHash / maglev: header | cookie | sourceIp',
    '    healthCheck: { http: { path: /healthz }, interval: 1s, timeout: 500ms, unhealthyThreshold: 2, healthyThreshold: 1 }',
    '    outlierDetection: { consecutive5xx: 3, baseEjectionTime: 10s, maxEjectionPercent: 50 }',
    '    circuitBreakers: { maxConnections: 1024, maxPendingRequests: 64, maxRequests: 1024, maxRetries: 3 }',
    'listeners:',
    '  - name: web',
    '    address: 127.0.0.1:8080',
    '    protocol: http',
    '    routes:',
    '      - match: { prefix: / }',
    '        cluster: app',
    '        timeout: 15s',
    '        retryPolicy: { retryOn: [connect-failure, gateway-error], numRetries: 2, perTryTimeout: 2s }',
    '',
  ].join('\n');
  const { config } = parseConfig(text, 'issue.yaml', { cpus: 1 });
  assert.equal(config.clusters[0]?.lb, 'roundRobin');
  assert.deepEqual(config.clusters[0]?.hashOn, { header: 'x-user' });
});
