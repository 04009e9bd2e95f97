/**
 * The epoch process booting under a stand-in supervisor (test/fixtures/epoch-fake-supervisor.ts):
 * ready with its counts, serving on every worker and every received socket, the admin
 * endpoint, and the boot's refusals (bad config, bad arguments).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, helloBackend } from './fixtures/proxy-util.js';
import { FakeSupervisor, adminRequest, freePorts, testConfig } from './fixtures/epoch-fake-supervisor.js';
import { HOT_RESTART_COMPATIBILITY } from '../src/uds-rpc/index.js';

test('boots, says ready with its counts, serves and proxies on every worker, and answers admin', async (t) => {
  const be = await helloBackend(t);
  const [web, raw, admin] = (await freePorts(3)) as [number, number, number];
  const sup = await FakeSupervisor.start(t, { configText: testConfig({ web, raw, admin, backend: be.port }), slotPorts: true });
  const epoch = sup.spawnEpoch(3);
  const ready = await sup.ready();
  assert.equal(ready.workers, 2);
  assert.equal(ready.sockets, 4);
  const events = ready.steps.map((s) => s.event);
  // The clusters get ready while the sockets come; then the workers and the admin endpoint
  // start side by side: either may finish first.
  assert.deepEqual(events.slice(0, 2), ['hello', 'config_loaded']);
  assert.deepEqual(events.slice(2, 4).sort(), ['clusters_ready', 'sockets_received']);
  assert.deepEqual(events.slice(4).sort(), ['admin_ready', 'workers_ready']);
  for (let i = 1; i < ready.steps.length; i++) assert.ok((ready.steps[i]?.at ?? 0) >= (ready.steps[i - 1]?.at ?? 0));

  // Slot socket i went to worker i % 2, each on its own port: every worker serves both listeners.
  const clients: RawClient[] = [];
  for (const port of sup.slotPorts.get('web') ?? []) {
    const c = await RawClient.open(t, port);
    clients.push(c);
    c.get('/');
    const direct = await c.response();
    assert.equal(direct.status, 200);
    assert.equal(direct.body.toString(), 'ok\n');
    c.get('/app/x');
    const proxied = await c.response();
    assert.equal(proxied.status, 200);
    assert.equal(proxied.body.toString(), 'hello /app/x\n');
  }
  for (const port of sup.slotPorts.get('raw') ?? []) {
    const c = await RawClient.open(t, port);
    clients.push(c);
    c.get('/tcp');
    assert.equal((await c.response()).body.toString(), 'hello /tcp\n');
  }
  assert.equal(clients.length, 4);

  const status = await sup.request({ type: 'epochStatus' });
  assert.deepEqual(status.body, { type: 'epochStatus', connections: 4, workers: 2, draining: false });
  assert.equal(sup.gauge('server.hot_restart_generation'), 3);

  const live = await adminRequest(admin, '/ready');
  assert.equal(live.status, 200);
  assert.equal(live.body, 'LIVE\n');
  const text = await adminRequest(admin, '/stats');
  assert.equal(text.status, 200);
  assert.ok(text.body.split('\n').includes('server.hot_restart_generation: 3'));
  assert.ok(text.body.split('\n').includes('listener.web.downstream_cx_total: 2'));
  const filtered = await adminRequest(admin, `/stats?filter=${encodeURIComponent('^http\\.web\\.')}`);
  const lines = filtered.body.trim().split('\n');
  assert.ok(lines.length > 0);
  for (const line of lines) assert.match(line, /^http\.web\./);
  const json = await adminRequest(admin, '/stats?format=json');
  assert.equal(json.status, 200);
  const parsed = JSON.parse(json.body) as { counters: Record<string, number>; gauges: Record<string, number>; histograms: object; overflows: number };
  assert.equal(parsed.gauges['server.hot_restart_generation'], 3);
  assert.equal(parsed.counters['http.web.downstream_rq_total'], 4);
  assert.equal(typeof parsed.histograms, 'object');
  assert.equal(parsed.overflows, 0);
  assert.equal((await adminRequest(admin, '/stats?filter=(')).status, 400);
  const info = await adminRequest(admin, '/server_info');
  assert.equal(info.status, 200);
  const facts = JSON.parse(info.body) as Record<string, unknown>;
  assert.equal(facts.epoch, 3);
  assert.equal(facts.pid, epoch.child.pid);
  assert.equal(facts.state, 'active');
  assert.equal(facts.workers, 2);
  assert.equal(facts.hotRestartCompatibility, HOT_RESTART_COMPATIBILITY);
  assert.match(String(facts.configHash), /^[0-9a-f]{12}$/);
  assert.match(String(facts.version), /^\d+\.\d+\.\d+/);
  assert.ok(typeof facts.uptimeMs === 'number' && facts.uptimeMs >= 0);
  assert.equal((await adminRequest(admin, '/nope')).status, 404);
  assert.equal((await adminRequest(admin, '/ready', 'POST')).status, 405);

  // terminate: the reply counts the connections, then every one is closed and the process exits 0.
  const reply = await sup.request({ type: 'terminate' });
  assert.equal(reply.body.connections, 4);
  assert.deepEqual(await epoch.exitWithin(2000), { code: 0, signal: null });
  for (const c of clients) await c.whenClosed();
  assert.equal(sup.counter('listener.web.downstream_cx_drain_forced'), 2);
  assert.equal(sup.counter('listener.raw.downstream_cx_drain_forced'), 2);
});

test('more slot sockets than workers: every socket is served, and an unknown listener is set aside', async (t) => {
  const [web] = (await freePorts(1)) as [number];
  const sup = await FakeSupervisor.start(t, { configText: testConfig({ web }, { workers: 3 }), workersOverride: 2, slots: 5, slotPorts: true, strayListeners: ['ghost'] });
  const epoch = sup.spawnEpoch(1);
  const ready = await sup.ready();
  assert.equal(ready.workers, 2);
  assert.equal(ready.sockets, 5);
  const ports = sup.slotPorts.get('web') ?? [];
  assert.equal(ports.length, 5);
  for (const port of ports) {
    const c = await RawClient.open(t, port);
    c.get('/');
    assert.equal((await c.response()).status, 200);
    c.socket.destroy();
  }
  const status = await sup.request({ type: 'epochStatus' });
  assert.equal(status.body.workers, 2);
  await sup.request({ type: 'terminate' });
  assert.equal((await epoch.exitWithin(2000)).code, 0);
});

test('an invalid config: exit 78, every issue logged with its position, no ready', async (t) => {
  const configText = 'workers: zero\nlisteners:\n  - name: web\n    address: 127.0.0.1:1\n    protocol: pigeon\n';
  const sup = await FakeSupervisor.start(t, { configText });
  const epoch = sup.spawnEpoch(1);
  assert.equal((await epoch.exitWithin(5000)).code, 78);
  assert.equal(sup.readies.length, 0);
  assert.equal(sup.getSocketsCount, 0);
  // The format is the contract (file:line:col: path: message), not the words.
  const positioned = epoch.stderr.match(/epoch-test\.yaml:\d+:\d+: \S+: /g) ?? [];
  assert.ok(positioned.length >= 2, epoch.stderr);
});

test('bad arguments: exit 2', async (t) => {
  const sup = await FakeSupervisor.start(t, { configText: 'listeners: []\n' });
  const missing = sup.spawnEpoch(1, null, ['--socket', sup.socketPath]);
  const notNumber = sup.spawnEpoch(1, null, ['--socket', sup.socketPath, '--stats', sup.statsPath, '--epoch', 'one', '--base-id', '0']);
  const unknown = sup.spawnEpoch(1, null, ['--socket', sup.socketPath, '--stats', sup.statsPath, '--epoch', '1', '--base-id', '0', '--frobnicate']);
  for (const child of [missing, notNumber, unknown]) assert.equal((await child.exitWithin(5000)).code, 2);
});
