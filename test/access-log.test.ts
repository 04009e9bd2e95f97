import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { parseConfig, type ConfigIssue } from '../src/config/index.js';
import { ExitCode, isProxyctlError } from '../src/errors.js';
import { AccessLogFiles, buildAccessLog, compileFormat, threadAccessLogFiles } from '../src/proxy/access-log/index.js';
import { StatsRegion } from '../src/shm/index.js';
import { fixture, tempDir } from './helpers.js';
import { entry, linesOf, request, streamInfo } from './fixtures/access-log-util.js';
import { cluster, makeConfig, startPlane, startRawBackend } from './fixtures/proxy-util.js';
import { RUN_JS, eventually, exitOf, freePort, startProxyctl } from './fixtures/supervisor-util.js';
import { tcpRoundTrip } from './fixtures/access-log-net.js';

const text = (format: string) => compileFormat({ format, json: null }).format;

test('text format: every operator, missing values as "-", alternatives, truncation, %%', () => {
  const example = '[%START_TIME%] "%REQ(:METHOD)% %REQ(:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"';
  assert.equal(text(example)(entry()), '[2026-12-01T20:30:05.042Z] "GET /a?b=c HTTP/1.1" 200 - 0 120 12 "curl/8" "rid-1" "example.com" "127.0.0.1:9001"\n');
  assert.equal(text('%REQ(X-NONE?USER-AGENT)% %REQ(USER-AGENT):3% %REQ(X-NONE)% %RESP(Content-Type)% %REQ(:scheme)% 100%%')(entry()), 'curl/8 cur - text/plain http 100%\n');
  assert.equal(text('%START_TIME(%Y/%m/%d %H:%M:%S.%6f|%1f|%j %a %b %s %z %Z %F %T)%')(entry()), '2026/12/01 20:30:05.042000|0|335 Tue Dec 1796157005 +0000 UTC 2026-12-01 20:30:05\n');
  const v6 = entry({ streamInfo: streamInfo({ downstreamRemoteAddress: '::1', downstreamLocalAddress: '::1', requestedServerName: 'a.test', routeName: 'r1' }) });
  assert.equal(text('%DOWNSTREAM_REMOTE_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% %DOWNSTREAM_LOCAL_ADDRESS% %REQUESTED_SERVER_NAME% %ROUTE_NAME% %UPSTREAM_CLUSTER% %CONNECTION_ID%')(v6), '[::1]:50000 ::1 [::1]:8080 a.test r1 app 7\n');
  assert.equal(text('%HOSTNAME%')(entry()), `${hostname()}\n`);
  // TCP: no request, no response, no status, no protocol.
  const tcp = entry({ request: null, response: null, status: 0, streamInfo: streamInfo({ protocol: '', responseFlags: 'UF' }), connectionId: 0 });
  assert.equal(text('%REQ(:METHOD)% %RESP(X)% %RESPONSE_CODE% %PROTOCOL% %RESPONSE_FLAGS% %CONNECTION_ID%')(tcp), '- - - - UF -\n');
  assert.deepEqual({ ...compileFormat({ format: '%BYTES_SENT%', json: null }), format: null }, { format: null, request: false, response: false });
  assert.equal(compileFormat({ format: '%RESP(x)%', json: null }).response, true);
});

test('text escaping: header values cannot end, split or forge a line', () => {
  const forged = 'curl\n[2026-12-01T00:00:00.000Z] "GET /admin HTTP/1.1" 200\r\u0085\u2028\\x';
  const line = text('"%REQ(USER-AGENT)%" %REQ(:PATH)%')(entry({ request: request('GET', '/p"q', 'h', { 'user-agent': forged }) }));
  assert.equal(line.indexOf('\n'), line.length - 1);
  assert.equal(line, '"curl\\x0a[2026-12-01T00:00:00.000Z] \\x22GET /admin HTTP/1.1\\x22 200\\x0d\\x85\\u2028\\x5cx" /p\\x22q\n');
});

test('json format: one object per line, values escaped as JSON strings, "-" when missing', () => {
  const json = { time: '%START_TIME%', status: '%RESPONSE_CODE%', ua: '%REQ(USER-AGENT)%', req: '%REQ(:METHOD)% %REQ(:PATH)%', none: '%REQ(X-NONE)%' };
  const c = compileFormat({ format: null, json });
  assert.equal(c.request, true);
  const ua = 'a"b\\c\nd\u0001\u2028';
  const line = c.format(entry({ request: request('POST', '/x', 'h', { 'user-agent': ua }) }));
  assert.equal(line.indexOf('\n'), line.length - 1);
  assert.deepEqual(JSON.parse(line), { time: '2026-12-01T20:30:05.042Z', status: '200', ua, req: 'POST /x', none: '-' });
});

const logYaml = (accessLog: string): string =>
  `listeners:\n  - name: raw\n    address: 127.0.0.1:7000\n    protocol: tcp\n    cluster: app\n    accessLog:\n${accessLog}clusters: [{ name: app, endpoints: [127.0.0.1:7001] }]\n`;

test('config: a bad format or an unusable path is an error at its line and column (exit 78)', (t) => {
  const dir = tempDir(t);
  const lines = [
    '      - path: a.log',
    '        format: "%FOO% x %"',
    '      - path: b.log',
    '        json: { ua: "%REQ(USER-AGENT", t: "%START_TIME(%Q)%", ok: "%BYTES_SENT%" }',
    '      - path: nodir/c.log',
    '      - path: d.log',
    '        format: "%BYTES_SENT%"',
    '        json: { a: "%BYTES_SENT%" }',
    '      - path: e.log',
    '        format: "%BYTES_SENT(x)% %RESPONSE_CODE:3% %REQ(:FOO)%"',
  ];
  const col = (n: number, s: string): number => lines[n - 7]!.indexOf(s) + 1;
  let issues: ConfigIssue[] = [];
  try {
    parseConfig(logYaml(`${lines.join('\n')}\n`), join(dir, 'p.yaml'));
    assert.fail('expected the config to be refused');
  } catch (err: unknown) {
    assert.ok(isProxyctlError(err, 'PROXYCTL_ERR_CONFIG_INVALID'));
    assert.equal(err.exitCode, ExitCode.CONFIG);
    issues = err.details.errors as ConfigIssue[];
  }
  const at = [...new Set(issues.map((i) => `${i.line}:${i.col} ${i.path}`))];
  assert.deepEqual(at, [
    `8:${col(8, '"%FOO')} listeners[0].accessLog[0].format`,
    `10:${col(10, '"%REQ')} listeners[0].accessLog[1].json.ua`,
    `10:${col(10, '"%START')} listeners[0].accessLog[1].json.t`,
    `11:${col(11, 'nodir')} listeners[0].accessLog[2].path`,
    `14:${col(14, 'json')} listeners[0].accessLog[3].json`,
    `16:${col(16, '"%BYTES')} listeners[0].accessLog[4].format`,
  ]);
  // Both mistakes in the first format are reported, and all three in the last.
  assert.equal(issues.filter((i) => i.path === 'listeners[0].accessLog[0].format').length, 2);
  assert.equal(issues.filter((i) => i.path === 'listeners[0].accessLog[4].format').length, 3);
});

test('config: relative paths resolve against the config file; defaults per protocol; block scalars', (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'logs'));
  const cfg = parseConfig(logYaml('      - path: logs/a.log\n      - path: /dev/null\n        format: |\n          %BYTES_SENT%\n'), join(dir, 'p.yaml')).config;
  assert.deepEqual(cfg.listeners[0]?.accessLog, [
    { path: join(dir, 'logs/a.log'), format: '[%START_TIME%] %DOWNSTREAM_REMOTE_ADDRESS% -> %UPSTREAM_HOST% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION%', json: null },
    { path: '/dev/null', format: '%BYTES_SENT%', json: null },
  ]);
  const withoutLog = parseConfig(logYaml('      []\n'), join(dir, 'p.yaml')).config;
  assert.equal('accessLog' in withoutLog.listeners[0]!, false);
});

test('proxyctl validate refuses a log whose directory does not exist (exit 78)', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'p.yaml');
  writeFileSync(file, logYaml('      - path: missing/access.log\n'));
  const r = spawnSync(process.execPath, [RUN_JS, 'validate', file, '--json'], { encoding: 'utf8' });
  assert.equal(r.status, ExitCode.CONFIG);
  const out = JSON.parse(r.stdout) as { error: { code: string; details: { errors: ConfigIssue[] } } };
  assert.equal(out.error.code, 'PROXYCTL_ERR_CONFIG_INVALID');
  assert.deepEqual(out.error.details.errors.map((e) => [e.line, e.col, e.path]), [[7, 15, 'listeners[0].accessLog[0].path']]);
});

test('writer: memory is bounded, lines past it are dropped and counted; files are 0640', async (t) => {
  const dir = tempDir(t);
  const stats = StatsRegion.create(join(dir, 'stats'));
  const files = new AccessLogFiles({ maxBufferBytes: 10_000 });
  t.after(() => files.closeAll());
  const path = join(dir, 'a.log');
  const log = buildAccessLog('web', [{ path, format: '%CONNECTION_ID% %REQ(X-PAD)%', json: null }], stats, files);
  assert.ok(log !== null);
  const pad = 'p'.repeat(90);
  for (let i = 1; i <= 1000; i++) log.log(entry({ connectionId: i, request: request('GET', '/', 'h', { 'x-pad': pad }) }));
  await files.flushAll();
  const dropped = Number(stats.counter('access_log.web.dropped').value());
  const written = linesOf(path);
  assert.ok(dropped > 0, 'some lines were dropped');
  assert.equal(written.length + dropped, 1000);
  // What was kept is the first lines, whole and in order.
  written.forEach((l, i) => {
    assert.equal(l, `${i + 1} ${pad}`);
  });
  assert.equal(statSync(path).mode & 0o777, 0o640);
  assert.equal(buildAccessLog('web', undefined, stats, files), null);
});

test('two processes appending to one file concurrently: every line whole, none lost, each in order', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'shared.log');
  const LINES = 40_000;
  const children = ['A', 'B'].map((tag) => {
    const c = spawn(process.execPath, [fixture('access-log-appender'), path, tag, String(LINES)], { stdio: ['pipe', 'pipe', 'inherit'] });
    t.after(() => {
      if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    });
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    return { c, out: () => out };
  });
  await eventually(() => children.every((ch) => ch.out().includes('ready')), 20_000, 'both appenders ready');
  for (const ch of children) ch.c.stdin.end('go\n');
  const codes = await Promise.race([Promise.all(children.map((ch) => exitOf(ch.c))), new Promise((r) => setTimeout(r, 120_000, 'timeout').unref())]);
  assert.deepEqual(codes, [0, 0]);
  for (const ch of children) assert.match(ch.out(), /done 0\n/);
  const next = { A: 0, B: 0 };
  let switches = 0;
  let last = '';
  for (const line of linesOf(path)) {
    const m = /^([AB]) (\d+) (x*) end$/.exec(line);
    assert.ok(m !== null, `a broken line: ${line.slice(0, 80)}`);
    const tag = m[1] as 'A' | 'B';
    const seq = Number(m[2]);
    assert.equal(seq, next[tag], `${tag}: lines in order, none missing`);
    assert.equal(m[3]!.length, (seq * 7919) % 1200);
    next[tag]++;
    if (tag !== last) switches++;
    last = tag;
  }
  assert.deepEqual(next, { A: LINES, B: LINES });
  t.diagnostic(`the two writers alternated ${switches} times in the file`);
});

test('tcp_proxy logs one line per connection at close: bytes both ways, duration, upstream, UF', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'tcp.log');
  const be = await startRawBackend(t, (s) => {
    s.allowHalfOpen = true;
    s.on('data', (d: Buffer) => s.write(d));
    s.on('end', () => s.end('bye'));
  });
  const dead = await startRawBackend(t, () => {});
  await new Promise<void>((r) => dead.server.close(() => r()));
  const json = { id: '%CONNECTION_ID%', rx: '%BYTES_RECEIVED%', tx: '%BYTES_SENT%', ms: '%DURATION%', up: '%UPSTREAM_HOST%', cluster: '%UPSTREAM_CLUSTER%', flags: '%RESPONSE_FLAGS%', from: '%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%', proto: '%PROTOCOL%' };
  const raw = { name: 'raw', protocol: 'tcp' as const, address: { host: '127.0.0.1', port: 0 }, cluster: 'app', accessLog: [{ path, format: null, json }] };
  // The dead endpoint has a cluster of its own: round robin starts at a random endpoint.
  const rawDead = { ...raw, name: 'rawDead', cluster: 'gone' };
  const h = await startPlane(t, makeConfig([raw, rawDead], [cluster('app', [be.port]), cluster('gone', [dead.port])]));
  t.after(() => threadAccessLogFiles.closeAll());
  assert.equal(await tcpRoundTrip(h.ports.raw!, 'hello'), 'hellobye');
  assert.equal(await tcpRoundTrip(h.ports.rawDead!, ''), '');
  await eventually(() => h.plane.connections() === 0, 5_000, 'both connections closed');
  await threadAccessLogFiles.flushAll();
  const got = linesOf(path).map((l) => JSON.parse(l) as Record<string, string>);
  assert.equal(got.length, 2);
  const [ok, failed] = got as [Record<string, string>, Record<string, string>];
  assert.deepEqual({ ...ok, ms: undefined, id: undefined }, { rx: '5', tx: '8', up: `127.0.0.1:${be.port}`, cluster: 'app', flags: '-', from: '127.0.0.1', proto: '-', ms: undefined, id: undefined });
  assert.match(ok.ms!, /^\d+$/);
  assert.deepEqual({ rx: failed.rx, tx: failed.tx, up: failed.up, flags: failed.flags }, { rx: '0', tx: '0', up: `127.0.0.1:${dead.port}`, flags: 'UF' });
  assert.notEqual(ok.id, failed.id);
  assert.equal(h.counter('access_log.raw.dropped'), 0);
});

test('SIGUSR1 to the supervisor: every epoch reopens its access logs; rotated lines stay, new ones go to the new file', async (t) => {
  const be = await startRawBackend(t, (s) => {
    s.allowHalfOpen = true;
    s.on('data', (d: Buffer) => s.write(d));
    s.on('end', () => s.end());
  });
  const port = await freePort();
  const yaml = [
    'workers: 2',
    'listeners:',
    '  - name: raw',
    `    address: 127.0.0.1:${port}`,
    '    protocol: tcp',
    '    cluster: app',
    '    accessLog:',
    '      - path: access.log', // relative: next to the config file
    '        json: { id: "%CONNECTION_ID%", rx: "%BYTES_RECEIVED%", tx: "%BYTES_SENT%", up: "%UPSTREAM_HOST%" }',
    `clusters: [{ name: app, endpoints: [127.0.0.1:${be.port}] }]`,
    'drain: { strategy: immediate, drainTime: 0s, parentShutdownTime: 2s }',
    '',
  ].join('\n');
  const inst = await startProxyctl(t, yaml);
  const path = join(inst.dir, 'access.log');
  const roundTrips = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) assert.equal(await tcpRoundTrip(port, `m${i}`), `m${i}`);
  };
  await roundTrips(20);
  await eventually(() => linesOf(path).length === 20, 10_000, 'the first 20 lines');
  renameSync(path, `${path}.1`);
  process.kill(inst.pid, 'SIGUSR1');
  await eventually(() => inst.entries().some((e) => e.msg === 'access logs reopened' && e.files === 2), 10_000, 'the active epoch to confirm the reopen');
  await roundTrips(15);
  // A reload onto a log directory that does not exist is refused before any epoch starts.
  const bad = inst.writeConfig('bad.yaml', yaml.replace('path: access.log', 'path: gone/access.log'));
  const refused = await inst.cli(['reload', '--json', '--config', bad]);
  assert.equal(refused.code, ExitCode.CONFIG);
  assert.equal(refused.json.error.code, 'PROXYCTL_ERR_CONFIG_INVALID');
  // No wait for the flush timer: a stop must write what is buffered before the epoch exits.
  inst.child.kill('SIGTERM');
  assert.equal(await Promise.race([exitOf(inst.child), new Promise((r) => setTimeout(r, 15_000, 'timeout').unref())]), 0);
  const rotated = linesOf(`${path}.1`).map((l) => JSON.parse(l) as Record<string, string>);
  const fresh = linesOf(path).map((l) => JSON.parse(l) as Record<string, string>);
  assert.equal(rotated.length, 20);
  assert.equal(fresh.length, 15);
  for (const l of [...rotated, ...fresh]) assert.deepEqual({ rx: l.rx, tx: l.tx, up: l.up }, { rx: l.rx, tx: l.rx, up: `127.0.0.1:${be.port}` });
  // Both workers draw from one counter: ids are unique across the epoch.
  assert.equal(new Set([...rotated, ...fresh].map((l) => l.id)).size, 35);
  assert.equal(statSync(path).mode & 0o777, 0o640);
});
