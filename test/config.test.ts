import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfigFile, parseConfig, formatIssue, parseDuration, parseAddress, type ConfigIssue } from '../src/config/index.js';
import { addressesOverlap } from '../src/config/address.js';
import { prefixRoute } from '../src/config/prefix-route.js';
import { staticCluster } from '../src/config/static-cluster.js';
import { ExitCode, isProxyctlError } from '../src/errors.js';
import { tempDir } from './helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const fixture = (name: string): string => join(ROOT, 'test/fixtures/config', name);

/** The issues parseConfig reports for `text`, reduced to what tests may assert on. */
function issuesOf(text: string): { line: number; col: number; path: string }[] {
  try {
    parseConfig(text, 'test.yaml', { cpus: 2 });
  } catch (err: unknown) {
    assert.ok(isProxyctlError(err, 'PROXYCTL_ERR_CONFIG_INVALID'), `expected CONFIG_INVALID, got ${String(err)}`);
    assert.equal(err.exitCode, ExitCode.CONFIG);
    const errors = err.details.errors as ConfigIssue[];
    assert.equal(err.message, errors.map(formatIssue).join('\n'));
    for (const e of errors) assert.equal(e.file, 'test.yaml');
    return errors.map(({ line, col, path }) => ({ line, col, path }));
  }
  assert.fail('expected the config to be refused');
}

const MINIMAL = `listeners:
  - name: web
    address: 127.0.0.1:8080
    protocol: http
    routes:
      - match: { prefix: / }
        directResponse: { status: 204 }
`;

test('the bundled default config loads, with defaults filled in', async () => {
  const { config, hash } = await loadConfigFile(join(ROOT, 'config/default.yaml'), { cpus: 4 });
  assert.equal(config.workers, 4);
  assert.deepEqual(config.admin, { address: { host: '127.0.0.1', port: 9901 } });
  assert.deepEqual(config.listeners, [
    { name: 'http', address: { host: '127.0.0.1', port: 8080 }, protocol: 'http', http2: false, routes: [prefixRoute('/', { directResponse: { status: 200, body: 'ok\n' } })] },
  ]);
  assert.deepEqual(config.clusters, []);
  assert.deepEqual(config.drain, { strategy: 'gradual', drainTimeMs: 30_000, parentShutdownTimeMs: 45_000 });
  assert.match(hash, /^[0-9a-f]{12}$/);
});

test('the example from the issue normalizes to the documented shape', async () => {
  const loaded = await loadConfigFile(fixture('full.yaml'));
  assert.equal(loaded.source, fixture('full.yaml'));
  assert.deepEqual(loaded.config, {
    workers: 2,
    admin: { address: { host: '127.0.0.1', port: 9901 } },
    listeners: [
      {
        name: 'web',
        address: { host: '127.0.0.1', port: 8080 },
        protocol: 'http',
        http2: false,
        routes: [
          prefixRoute('/health', { directResponse: { status: 200, body: 'ok\n' } }),
          prefixRoute('/', { cluster: 'app' }),
        ],
      },
      { name: 'raw', address: { host: '::1', port: 8443 }, protocol: 'tcp', cluster: 'app' },
    ],
    clusters: [staticCluster('app', [{ host: '127.0.0.1', port: 9001 }, { host: '127.0.0.1', port: 9002 }])],
    drain: { strategy: 'immediate', drainTimeMs: 1500, parentShutdownTimeMs: 120_000 },
    standby: true,
    stats: { flushIntervalMs: 5000, sinks: [] },
  });
});

test('defaults: no admin section means null, body "", workers from the CPU count capped at 64', () => {
  const small = parseConfig(MINIMAL, 'm.yaml', { cpus: 3 }).config;
  assert.equal(small.admin, null);
  assert.equal(small.workers, 3);
  assert.deepEqual(small.listeners[0], {
    name: 'web',
    address: { host: '127.0.0.1', port: 8080 },
    protocol: 'http',
    http2: false,
    routes: [prefixRoute('/', { directResponse: { status: 204, body: '' } })],
  });
  assert.equal(parseConfig(MINIMAL, 'm.yaml', { cpus: 200 }).config.workers, 64);
  assert.ok(parseConfig(MINIMAL, 'm.yaml').config.workers >= 1);
});

test('the loaded config is deeply frozen', () => {
  const loaded = parseConfig(MINIMAL, 'm.yaml', { cpus: 1 });
  const route = loaded.config.listeners[0]?.protocol === 'http' ? loaded.config.listeners[0].routes[0] : undefined;
  assert.ok(route !== undefined && 'directResponse' in route);
  for (const o of [loaded, loaded.config, loaded.config.listeners, route, route.match, route.directResponse, loaded.config.drain]) {
    assert.ok(Object.isFrozen(o));
  }
  assert.throws(() => {
    (route.match as { prefix: string }).prefix = '/other';
  }, TypeError);
});

test('the hash follows the content, not key order, comments or layout', () => {
  const a = parseConfig(MINIMAL, 'a.yaml', { cpus: 2 }).hash;
  const reordered = `# same config, other layout
listeners:
- routes: [{ directResponse: { status: 204 }, match: { prefix: / } }]
  protocol: http
  address: "127.0.0.1:8080"
  name: web
drain: { drainTime: 30s }
`;
  assert.equal(parseConfig(reordered, 'b.yaml', { cpus: 2 }).hash, a);
  assert.notEqual(parseConfig(MINIMAL.replace('204', '200'), 'c.yaml', { cpus: 2 }).hash, a);
  assert.notEqual(parseConfig(MINIMAL, 'a.yaml', { cpus: 3 }).hash, a);
});

test('every error is reported, each at the line and column of its node', async () => {
  // Positions in test/fixtures/config/invalid.yaml: open it next to this list.
  const errors = await loadConfigFile(fixture('invalid.yaml'), { cpus: 2 }).then(
    () => assert.fail('expected the config to be refused'),
    (err: unknown) => {
      assert.ok(isProxyctlError(err, 'PROXYCTL_ERR_CONFIG_INVALID'));
      return err.details.errors as ConfigIssue[];
    },
  );
  assert.deepEqual(
    errors.map((e) => `${e.line}:${e.col} ${e.path}`),
    [
      '1:10 workers',
      '2:19 admin.address',
      '8:26 listeners[0].routes[0].match.prefix',
      '9:18 listeners[0].routes[0].cluster',
      '10:9 listeners[0].routes[1]',
      '14:35 listeners[0].routes[2].directResponse.status',
      '14:46 listeners[0].routes[2].directResponse.body',
      '15:5 listeners[0].adress',
      '16:5 listeners[1].cluster',
      '16:11 listeners[1].name',
      '17:14 listeners[1].address',
      '19:5 listeners[1].routes',
      '20:11 listeners[2].name',
      '21:14 listeners[2].address',
      '22:15 listeners[2].protocol',
      '23:5 listeners[3].cluster',
      '24:14 listeners[3].address',
      '28:16 clusters[0].endpoints',
      '29:11 clusters[1].name',
      '32:13 drain.strategy',
      '33:14 drain.drainTime',
    ],
  );
});

test('YAML syntax errors and duplicate keys come out as (yaml) issues with positions', () => {
  assert.deepEqual(issuesOf('listeners:\n  - name: a\n    name: b\n'), [{ line: 3, col: 5, path: '(yaml)' }]);
  const broken = issuesOf('listeners: [\n  { name: a\n');
  assert.ok(broken.length > 0 && broken.every((i) => i.path === '(yaml)' && i.line >= 1));
  assert.deepEqual(issuesOf('a: 1\n---\nb: 2\n').map((i) => i.path), ['(yaml)']);
  assert.deepEqual(issuesOf('a: &x [1]\nb: !nope *x\n').map((i) => i.path), ['(yaml)']);
});

test('an empty document, or one that is not a mapping, is refused at the root', () => {
  assert.deepEqual(issuesOf(''), [{ line: 1, col: 1, path: '(root)' }]);
  assert.deepEqual(issuesOf('# only a comment\n'), [{ line: 1, col: 1, path: '(root)' }]);
  assert.deepEqual(issuesOf('- a\n- b\n'), [{ line: 1, col: 1, path: '(root)' }]);
  assert.deepEqual(issuesOf('workers: 2\n'), [{ line: 1, col: 1, path: 'listeners' }]);
  assert.deepEqual(issuesOf('listeners: []\n'), [{ line: 1, col: 12, path: 'listeners' }]);
});

test('unknown keys point at the key; missing keys at the mapping that lacks them', () => {
  const text = `listeners:
  - name: web
    adress: 127.0.0.1:8080
    protocol: http
    routes:
      - match: { prefx: / }
        cluster: app
clusters:
  - name: app
    endpoints: [127.0.0.1:9001]
    weight: 3
`;
  assert.deepEqual(issuesOf(text), [
    { line: 2, col: 5, path: 'listeners[0].address' },
    { line: 3, col: 5, path: 'listeners[0].adress' },
    { line: 6, col: 16, path: 'listeners[0].routes[0].match' },
    { line: 6, col: 18, path: 'listeners[0].routes[0].match.prefx' },
    { line: 11, col: 5, path: 'clusters[0].weight' },
  ]);
  // A key with no value is reported at the key, not wherever the next token happens to be.
  assert.deepEqual(issuesOf('listeners:\n  - name:\n    address: 127.0.0.1:1\n    protocol: tcp\n    cluster: c\nclusters: [{ name: c, endpoints: [127.0.0.1:2] }]\n'), [
    { line: 2, col: 5, path: 'listeners[0].name' },
  ]);
});

test('protocol rules: http needs routes and no cluster, tcp needs a cluster and no routes, routes need one action', () => {
  const text = `listeners:
  - name: a
    address: 127.0.0.1:1
    protocol: http
    cluster: app
  - name: b
    address: 127.0.0.1:2
    protocol: http
    routes: []
  - name: c
    address: 127.0.0.1:3
    protocol: tcp
    routes:
      - match: { prefix: / }
        cluster: app
  - name: d
    address: 127.0.0.1:4
    protocol: http
    routes:
      - match: { prefix: / }
clusters: [{ name: app, endpoints: ["[::1]:9000"] }]
`;
  assert.deepEqual(issuesOf(text), [
    { line: 2, col: 5, path: 'listeners[0].routes' },
    { line: 5, col: 5, path: 'listeners[0].cluster' },
    { line: 9, col: 13, path: 'listeners[1].routes' },
    { line: 10, col: 5, path: 'listeners[2].cluster' },
    { line: 13, col: 5, path: 'listeners[2].routes' },
    { line: 20, col: 9, path: 'listeners[3].routes[0]' },
  ]);
});

test('names, addresses and references are checked across the whole file', () => {
  const text = `listeners:
  - { name: a, address: "0.0.0.0:80", protocol: tcp, cluster: x }
  - { name: b, address: "127.0.0.1:80", protocol: tcp, cluster: app }
  - { name: c, address: "[::]:81", protocol: tcp, cluster: app }
  - { name: d, address: "localhost:81", protocol: tcp, cluster: app }
  - { name: e, address: "[0:0::1]:82", protocol: tcp, cluster: app }
  - { name: f, address: "[::1]:82", protocol: tcp, cluster: app }
  - { name: g, address: "127.0.0.1:83", protocol: tcp, cluster: "bad.name" }
clusters:
  - { name: app, endpoints: [127.0.0.1:1] }
`;
  assert.deepEqual(issuesOf(text), [
    { line: 2, col: 63, path: 'listeners[0].cluster' },
    { line: 3, col: 25, path: 'listeners[1].address' },
    { line: 5, col: 25, path: 'listeners[3].address' },
    { line: 7, col: 25, path: 'listeners[5].address' },
    { line: 8, col: 65, path: 'listeners[6].cluster' },
  ]);
});

test('drain: parentShutdownTime may not be shorter than drainTime, counting defaults', () => {
  const drain = (d: string): string => `${MINIMAL}drain: ${d}\n`;
  assert.equal(parseConfig(drain('{ drainTime: 45s }'), 'd.yaml', { cpus: 1 }).config.drain.parentShutdownTimeMs, 45_000);
  assert.deepEqual(issuesOf(drain('{ drainTime: 60s }')), [{ line: 8, col: 21, path: 'drain.drainTime' }]);
  assert.deepEqual(issuesOf(drain('{ drainTime: 10s, parentShutdownTime: 5s }')), [{ line: 8, col: 46, path: 'drain.parentShutdownTime' }]);
  assert.deepEqual(issuesOf(drain('{ parentShutdownTime: 20s }')), [{ line: 8, col: 30, path: 'drain.parentShutdownTime' }]);
  assert.deepEqual(issuesOf(drain('{ drainTime: 30 }')), [{ line: 8, col: 21, path: 'drain.drainTime' }]);
});

test('parseDuration: a number with a unit, in whole milliseconds', () => {
  const ok: [string, number][] = [['250ms', 250], ['30s', 30_000], ['1.5s', 1500], ['0.1s', 100], ['2m', 120_000], ['1h', 3_600_000], ['0s', 0], [' 5s ', 5000]];
  for (const [text, ms] of ok) assert.deepEqual(parseDuration(text), { ok: true, ms }, text);
  for (const text of ['30', '', 's', '-1s', '1 s', '1.5ms', '2d', '1e3ms', '.5s', '25000h', '30S']) {
    assert.equal(parseDuration(text).ok, false, text);
  }
});

test('parseAddress: IPv4, [IPv6] or localhost, and a port in 1..65535', () => {
  assert.deepEqual(parseAddress('127.0.0.1:8080'), { ok: true, address: { host: '127.0.0.1', port: 8080 } });
  assert.deepEqual(parseAddress('[::1]:1'), { ok: true, address: { host: '::1', port: 1 } });
  assert.deepEqual(parseAddress('[0:0:0:0:0:0:0:1]:65535'), { ok: true, address: { host: '::1', port: 65535 } });
  assert.deepEqual(parseAddress('localhost:9901'), { ok: true, address: { host: 'localhost', port: 9901 } });
  for (const text of ['127.0.0.1', '127.0.0.1:0', '127.0.0.1:65536', ':80', '::1:80', '[::1]', '[127.0.0.1]:80', 'example.com:80', '256.0.0.1:80', '127.0.0.1:80:80', '127.0.0.1:-1']) {
    assert.equal(parseAddress(text).ok, false, text);
  }
  const at = (text: string) => {
    const r = parseAddress(text);
    assert.ok(r.ok, text);
    return r.address;
  };
  assert.ok(addressesOverlap(at('0.0.0.0:80'), at('127.0.0.1:80')));
  assert.ok(addressesOverlap(at('[::]:80'), at('127.0.0.1:80')));
  assert.ok(!addressesOverlap(at('127.0.0.1:80'), at('127.0.0.2:80')));
  assert.ok(!addressesOverlap(at('0.0.0.0:80'), at('[::1]:80')));
  assert.ok(!addressesOverlap(at('0.0.0.0:80'), at('0.0.0.0:81')));
});

test('loadConfigFile: a missing or unreadable file is PROXYCTL_ERR_CONFIG_READ (exit 78)', async (t) => {
  const dir = tempDir(t);
  await assert.rejects(loadConfigFile(join(dir, 'absent.yaml')), (err: unknown) => {
    assert.ok(isProxyctlError(err, 'PROXYCTL_ERR_CONFIG_READ'));
    assert.equal(err.exitCode, ExitCode.CONFIG);
    assert.equal(err.details.errno, 'ENOENT');
    return true;
  });
  await assert.rejects(loadConfigFile(dir), (err: unknown) => isProxyctlError(err, 'PROXYCTL_ERR_CONFIG_READ') && err.details.errno === 'EISDIR');
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'listeners: 3\n');
  await assert.rejects(loadConfigFile(bad), (err: unknown) => {
    assert.ok(isProxyctlError(err, 'PROXYCTL_ERR_CONFIG_INVALID'));
    assert.deepEqual((err.details.errors as ConfigIssue[]).map((e) => [e.file, e.line, e.col, e.path]), [[bad, 1, 12, 'listeners']]);
    return true;
  });
});

test('virtualHosts: a file with the virtualHosts form loads; its mistakes come out at their line:col', async () => {
  const { config } = await loadConfigFile(fixture('virtual-hosts.yaml'), { cpus: 1 });
  const web = config.listeners[0];
  assert.ok(web?.protocol === 'http' && web.virtualHosts !== undefined);
  assert.deepEqual(web.routes, []);
  assert.deepEqual(web.virtualHosts.map((v) => [v.name, v.domains, v.routes.length]), [
    ['api', ['api.example.com', '*.api.example.com'], 2],
    ['fallback', ['*'], 2],
  ]);
  assert.equal(web.pathWithEscapedSlashes, 'reject');
  const errors = await loadConfigFile(fixture('virtual-hosts-invalid.yaml'), { cpus: 1 }).then(
    () => assert.fail('expected the config to be refused'),
    (err: unknown) => {
      assert.ok(isProxyctlError(err, 'PROXYCTL_ERR_CONFIG_INVALID'));
      assert.equal(err.exitCode, ExitCode.CONFIG);
      return err.details.errors as ConfigIssue[];
    },
  );
  assert.deepEqual(
    errors.map((e) => `${e.line}:${e.col} ${e.path}`),
    [
      '9:29 listeners[0].virtualHosts[0].routes[0].match.regex',
      '12:36 listeners[0].virtualHosts[1].domains[1]',
      '15:22 listeners[0].virtualHosts[1].routes[0].cluster',
      '16:13 listeners[0].virtualHosts[1].routes[1]',
    ],
  );
});


test('a key that is a list or a mapping is an issue at the key; a key holding a newline is reported on one line', () => {
  assert.deepEqual(issuesOf(`${MINIMAL}? [a]\n: 1\n`), [{ line: 8, col: 3, path: '(yaml)' }]);
  assert.deepEqual(issuesOf(`{[a]: 1, listeners: []}\n`), [{ line: 1, col: 2, path: '(yaml)' }]);
  try {
    parseConfig(`"a\\nb": 1\n${MINIMAL}`, 'test.yaml', { cpus: 2 });
    assert.fail('expected the config to be refused');
  } catch (err: unknown) {
    assert.ok(isProxyctlError(err, 'PROXYCTL_ERR_CONFIG_INVALID'));
    const errors = err.details.errors as ConfigIssue[];
    assert.deepEqual(errors.map(({ line, col, path }) => ({ line, col, path })), [{ line: 1, col: 1, path: '["a\\nb"]' }]);
    assert.equal(err.message.split('\n').length, 1);
  }
});
