/**
 * The admin API of a running proxyctl, end to end: every path answers with its status and
 * content type, mutating paths take POST only, the Prometheus text passes promtool, the
 * OpenMetrics text parses, /config_dump hides secrets, and the host-wide requests (health
 * check flag across a reload, drain, quit) go through the supervisor.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { request, createServer } from 'node:http';
import { statSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { processIsAlive } from '../src/shm/locks.js';
import { tempDir } from './helpers.js';
import { run } from './fixtures/clients.js';
import { listenOnLoopback } from './fixtures/proxy-util.js';
import { exitOf, freePort, startProxyctl } from './fixtures/supervisor-util.js';
import { makeCa, makeLeaf, read } from './fixtures/tls-util.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function admin(port: number, path: string, method = 'GET', headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The secrets the config holds; none may appear in /config_dump. */
const BEARER = 'Bearer s3cr3t-admin-test';

function config(dir: string, port: number, tlsPort: number, adminPort: number, backend: number): string {
  return [
    'workers: 1',
    `admin: { address: 127.0.0.1:${adminPort} }`,
    'listeners:',
    '  - name: web',
    `    address: 127.0.0.1:${port}`,
    '    protocol: http',
    `    httpFilters: [{ headers: { request: { set: { authorization: "${BEARER}" } } } }]`,
    '    routes:',
    `      - match: { prefix: /private/, headers: [{ name: x-api-key, exact: "${BEARER}" }] }`,
    '        directResponse: { status: 200, body: "private\\n" }',
    '      - match: { prefix: / }',
    '        cluster: app',
    '  - name: secure',
    `    address: 127.0.0.1:${tlsPort}`,
    '    protocol: tcp',
    '    cluster: app',
    `    tls: { certificates: [{ certFile: ${dir}/leaf.pem, keyFile: ${dir}/leaf.key }] }`,
    'clusters:',
    '  - name: app',
    `    endpoints: [127.0.0.1:${backend}]`,
    'drain: { strategy: immediate, drainTime: 200ms, parentShutdownTime: 2s }',
    '',
  ].join('\n');
}

const GET_PATHS = ['/', '/ready', '/stats', '/stats/prometheus', '/server_info', '/clusters', '/listeners', '/config_dump', '/hot_restart_version'];
const POST_PATHS = ['/healthcheck/fail', '/healthcheck/ok', '/drain_listeners', '/quitquitquit'];

test('admin API: paths, Prometheus/OpenMetrics, secrets, health check across a reload, drain, Unix socket, quit', async (t) => {
  const backendServer = createServer((_req, res) => res.end('hello\n'));
  const backend = await listenOnLoopback(t, backendServer);
  const [port, tlsPort, adminPort] = [await freePort(), await freePort(), await freePort()];
  const dir = tempDir(t);
  makeCa(dir, 'ca');
  makeLeaf(dir, 'leaf', 'ca', ['admin.test']);
  const proxy = await startProxyctl(t, config(dir, port, tlsPort, adminPort, backend));

  // Traffic first, so the counters, gauges and histograms have something to show.
  for (let i = 0; i < 5; i++) {
    const r = await run('curl', ['-sS', '--max-time', '5', `http://127.0.0.1:${port}/x`]);
    assert.equal(r.stdout, 'hello\n');
  }

  // The index names every path; each GET path answers 200 (HEAD too), each POST path 405 on GET.
  const index = await admin(adminPort, '/');
  for (const path of [...GET_PATHS, ...POST_PATHS]) assert.match(index.body, new RegExp(`^(GET|POST) +${path.replace(/\//g, '\\/')} `, 'm'), path);
  for (const path of GET_PATHS) {
    const get = await admin(adminPort, path);
    assert.equal(get.status, 200, path);
    const head = await admin(adminPort, path, 'HEAD');
    assert.equal(head.status, 200, `HEAD ${path}`);
    // HEAD describes what GET serves (a body is never read by Node's client for HEAD).
    assert.equal(head.headers['content-type'], get.headers['content-type'], `HEAD ${path}`);
    assert.equal((await admin(adminPort, path, 'POST')).status, 405, `POST ${path}`);
  }
  for (const path of POST_PATHS) {
    const r = await admin(adminPort, path);
    assert.equal(r.status, 405, path);
    assert.equal(r.headers.allow, 'POST');
  }
  assert.equal((await admin(adminPort, '/nope')).status, 404);
  assert.equal((await admin(adminPort, '/stats?format=yaml')).status, 400);

  // Prometheus 0.0.4: promtool accepts it with no lint finding.
  const prom = await admin(adminPort, '/stats/prometheus');
  assert.equal(prom.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
  assert.equal((await admin(adminPort, '/stats?format=prometheus')).headers['content-type'], prom.headers['content-type']);
  const promtool = await new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) => resolve({ code, out }));
    child.stdin.end(prom.body);
  });
  assert.equal(promtool.code, 0, promtool.out);
  assert.equal(promtool.out.trim(), '');
  assert.match(prom.body, /^# TYPE proxyctl_cluster_upstream_rq_total counter$/m);
  assert.match(prom.body, /^proxyctl_cluster_upstream_rq_total\{proxyctl_cluster_name="app"\} 5$/m);
  assert.match(prom.body, /^proxyctl_listener_downstream_cx_total\{proxyctl_listener_name="web"\} 5$/m);
  assert.match(prom.body, /^# TYPE proxyctl_listener_downstream_cx_active gauge$/m);
  assert.match(prom.body, /^# TYPE proxyctl_http_downstream_rq_time histogram$/m);
  assert.match(prom.body, /^proxyctl_http_downstream_rq_time_bucket\{proxyctl_http_conn_manager_prefix="web",le="\+Inf"\} 5$/m);
  assert.match(prom.body, /^proxyctl_http_downstream_rq_time_count\{proxyctl_http_conn_manager_prefix="web"\} 5$/m);
  assert.doesNotMatch(prom.body, /_total_total/);

  // OpenMetrics when the scraper asks for it: counter families without _total, samples with it, # EOF last.
  const om = await admin(adminPort, '/stats/prometheus', 'GET', { accept: 'application/openmetrics-text; version=1.0.0,text/plain;version=0.0.4;q=0.5' });
  assert.equal(om.headers['content-type'], 'application/openmetrics-text; version=1.0.0; charset=utf-8');
  assert.ok(om.body.endsWith('\n# EOF\n'));
  assert.equal(om.body.split('\n').filter((l) => l === '# EOF').length, 1);
  assert.match(om.body, /^# TYPE proxyctl_cluster_upstream_rq counter\nproxyctl_cluster_upstream_rq_total\{proxyctl_cluster_name="app"\} 5$/m);
  assert.match(om.body, /^proxyctl_http_downstream_rq_time_bucket\{proxyctl_http_conn_manager_prefix="web",le="1\.0"\} \d+$/m);
  for (const line of om.body.split('\n')) {
    const m = /^# TYPE (\S+) counter$/.exec(line);
    if (m !== null) assert.ok(!m[1]!.endsWith('_total'), `family ${m[1]} ends in _total`);
  }

  // ?usedonly: only what something wrote; a counter never incremented is left out.
  const all = (await admin(adminPort, '/stats')).body;
  const used = (await admin(adminPort, '/stats?usedonly')).body;
  assert.match(all, /^cluster\.app\.upstream_rq_timeout: 0$/m);
  assert.doesNotMatch(used, /upstream_rq_timeout/);
  assert.match(used, /^http\.web\.downstream_rq_total: 5$/m);
  for (const line of used.trim().split('\n')) assert.doesNotMatch(line, /: 0$|count=0 /, line);

  // /listeners, /hot_restart_version, /config_dump.
  const listeners = JSON.parse((await admin(adminPort, '/listeners?format=json')).body) as { listeners: unknown[] };
  assert.deepEqual(listeners.listeners, [
    { name: 'web', address: `127.0.0.1:${port}`, protocol: 'http' },
    { name: 'secure', address: `127.0.0.1:${tlsPort}`, protocol: 'tcp' },
  ]);
  assert.match((await admin(adminPort, '/hot_restart_version')).body, /^\d+\.\d+\n$/);
  const dump = await admin(adminPort, '/config_dump');
  assert.equal(dump.headers['content-type'], 'application/json');
  const parsed = JSON.parse(dump.body) as { config: { listeners: { name: string }[] } };
  assert.deepEqual(parsed.config.listeners.map((l) => l.name), ['web', 'secure']);
  assert.ok(!dump.body.includes('s3cr3t'), 'a credential header value is in /config_dump');
  assert.ok(!dump.body.includes('PRIVATE KEY'), 'a private key is in /config_dump');
  assert.ok(!dump.body.includes(read(dir, 'leaf.key').split('\n')[1]!), 'key material is in /config_dump');
  assert.ok(!dump.body.includes('leaf.key'), 'the key file path is in /config_dump');
  assert.ok(dump.body.includes('leaf.pem'), 'the certificate path (public) should stay');

  // The health-check flag is the supervisor's: it survives a reload; /ready answers all the way through.
  assert.equal((await admin(adminPort, '/healthcheck/fail', 'POST')).status, 200);
  assert.equal((await admin(adminPort, '/ready')).status, 503);
  const during: number[] = [];
  let reloading = true;
  const poller = (async () => {
    while (reloading) during.push((await admin(adminPort, '/ready')).status);
  })();
  const reload = await proxy.cli(['reload', '--json']);
  reloading = false;
  await poller;
  assert.equal(reload.code, 0, reload.stderr);
  assert.ok(during.length > 0);
  assert.deepEqual([...new Set(during)], [503]);
  const info = JSON.parse((await admin(adminPort, '/server_info')).body) as { epoch: number; healthCheckFailed: boolean };
  assert.equal(info.epoch, reload.json.epoch);
  assert.equal(info.healthCheckFailed, true);
  assert.equal((await admin(adminPort, '/ready')).status, 503);
  assert.equal((await admin(adminPort, '/healthcheck/ok', 'POST')).status, 200);
  assert.equal((await admin(adminPort, '/ready')).status, 200);

  // /drain_listeners: as `proxyctl drain`: new connections are refused, status agrees, /ready fails.
  const drained = await admin(adminPort, '/drain_listeners', 'POST');
  assert.equal(drained.status, 200, drained.body);
  assert.equal((JSON.parse(drained.body) as { epoch: number }).epoch, reload.json.epoch);
  const s = connect(port, '127.0.0.1');
  const [err] = (await once(s, 'error')) as [NodeJS.ErrnoException];
  assert.equal(err.code, 'ECONNREFUSED');
  const status = await proxy.cli(['status', '--json']);
  const serving = (status.json.epochs as { epoch: number; state: string }[]).find((e) => e.epoch === reload.json.epoch);
  assert.equal(serving?.state, 'draining');
  assert.equal((await admin(adminPort, '/ready')).status, 503);

  // A reload brings the host back, here onto a Unix admin socket: 0600 in the private dir.
  const unixConfig = proxy.writeConfig('unix.yaml', config(dir, port, tlsPort, adminPort, backend).replace(/^admin: .*$/m, 'admin: { unix: true }'));
  const back = await proxy.cli(['reload', '--config', unixConfig, '--json']);
  assert.equal(back.code, 0, back.stderr);
  const sock = join(proxy.runtimeDir, `base-${proxy.baseId}`, 'admin.sock');
  assert.equal(statSync(sock).mode & 0o777, 0o600);
  const overUnix = (path: string, ...args: string[]) => run('curl', ['-sS', '--max-time', '5', '--unix-socket', sock, ...args, `http://admin${path}`]);
  assert.equal((await overUnix('/ready')).stdout, 'LIVE\n');
  assert.equal((JSON.parse((await overUnix('/server_info')).stdout) as { epoch: number }).epoch, back.json.epoch);
  assert.equal((await run('curl', ['-sS', '--max-time', '5', `http://127.0.0.1:${port}/x`])).stdout, 'hello\n');

  // /quitquitquit: the whole proxyctl stops, as `proxyctl stop`.
  assert.match((await overUnix('/quitquitquit', '-X', 'POST')).stdout, /^OK/);
  assert.equal(await exitOf(proxy.child), 0);
  assert.equal(processIsAlive(proxy.pid), false);
});
