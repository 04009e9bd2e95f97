/**
 * What operators see of the clusters, on `proxyctl start` with real backend processes:
 * `proxyctl status --clusters` (JSON and table) and admin `/clusters` (text and JSON) list
 * each host with its weight, health flags, active requests and locality. And a reload hands
 * the serving epoch's host state to the next one: the new epoch shows at once what the old
 * one had concluded, where its own checks would have said otherwise.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clusterConfig, freePort, startBackendProcess, startProxyctl, type Instance } from './fixtures/supervisor-util.js';

interface HostJson {
  address: string;
  weight: number;
  health: string | null;
  flags: string[];
  activeRequests: number;
  locality: Record<string, string> | null;
}

async function statusClusters(inst: Instance): Promise<{ epoch: number; hosts: Map<string, HostJson>; cluster: Record<string, unknown> }> {
  const r = await inst.cli(['status', '--clusters', '--json']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const active = (r.json.epochs as { epoch: number; state: string }[]).find((e) => e.state === 'active');
  assert.ok(active !== undefined, r.stdout);
  assert.equal(r.json.clusters.length, 1, r.stdout);
  const cluster = r.json.clusters[0];
  return { epoch: active.epoch, cluster, hosts: new Map((cluster.hosts as HostJson[]).map((h) => [h.address, h])) };
}

async function admin(port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
}

test('status --clusters and admin /clusters show each host: weight, health flags, active requests, locality', async (t) => {
  const [a, b] = await Promise.all([startBackendProcess(t, 'a'), startBackendProcess(t, 'b')]);
  const dead = await freePort();
  const [port, adminPort] = [await freePort(), await freePort()];
  const [ha, hb, hd] = [`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`, `127.0.0.1:${dead}`];
  const inst = await startProxyctl(
    t,
    clusterConfig({
      port,
      adminPort,
      cluster: [
        `endpoints: [${ha}, { address: ${hb}, weight: 3, locality: { region: eu, zone: z1 } }, ${hd}]`,
        'healthCheck: { http: { path: /healthz }, interval: 200ms, timeout: 200ms, unhealthyThreshold: 1, healthyThreshold: 1 }',
      ],
    }),
  );
  const { cluster, hosts } = await statusClusters(inst);
  assert.equal(cluster.name, 'app');
  assert.equal(cluster.discovery, 'static');
  assert.equal(cluster.lb, 'roundRobin');
  assert.equal(cluster.healthy, 2);
  assert.equal(cluster.panic, false);
  assert.deepEqual([...hosts.keys()].sort(), [ha, hb, hd].sort());
  assert.deepEqual(hosts.get(hd)!.flags, ['failed_active_hc']);
  assert.equal(hosts.get(hd)!.health, 'unhealthy');
  for (const live of [ha, hb]) {
    assert.deepEqual(hosts.get(live)!.flags, []);
    assert.equal(hosts.get(live)!.health, 'healthy');
  }
  assert.deepEqual([hosts.get(ha)!.weight, hosts.get(hb)!.weight, hosts.get(hd)!.weight], [1, 3, 1]);
  assert.deepEqual(hosts.get(hb)!.locality, { region: 'eu', zone: 'z1' });
  assert.equal(hosts.get(ha)!.locality, null);
  for (const h of hosts.values()) assert.ok(Number.isInteger(h.activeRequests) && h.activeRequests >= 0, `${h.address}: ${h.activeRequests}`);

  const human = await inst.cli(['status', '--clusters']);
  assert.equal(human.code, 0, human.stderr);
  for (const addr of [ha, hb, hd]) assert.ok(human.stdout.includes(addr), `${addr} in:\n${human.stdout}`);
  assert.match(human.stdout, /^cluster app: /m);
  // Without the flag the status is what it was: no clusters in it.
  const plain = await inst.cli(['status', '--json']);
  assert.equal(plain.code, 0, plain.stderr);
  assert.equal('clusters' in plain.json, false);

  const text = await admin(adminPort, '/clusters');
  assert.equal(text.status, 200);
  const lines = new Set(text.body.trimEnd().split('\n'));
  for (const want of [
    'app::lb::roundRobin',
    'app::panic::false',
    `app::${hd}::health_flags::/failed_active_hc`,
    `app::${ha}::health_flags::healthy`,
    `app::${hb}::health_flags::healthy`,
    `app::${hb}::weight::3`,
    `app::${ha}::weight::1`,
    `app::${hb}::locality::region=eu,zone=z1`,
    `app::${ha}::locality::-`,
    `app::${hd}::outlier::ejected_until::-`,
  ]) {
    assert.ok(lines.has(want), `${want} in:\n${text.body}`);
  }
  for (const addr of [ha, hb, hd]) assert.ok([...lines].some((l) => new RegExp(`^app::${addr}::rq_active::\\d+$`).test(l)), `rq_active of ${addr}`);

  const json = await admin(adminPort, '/clusters?format=json');
  assert.equal(json.status, 200);
  const body = JSON.parse(json.body) as { clusters: { name: string; hosts: HostJson[] }[] };
  assert.equal(body.clusters.length, 1);
  const byAddr = new Map(body.clusters[0]!.hosts.map((h) => [h.address, h]));
  assert.deepEqual(byAddr.get(hd)!.flags, ['failed_active_hc']);
  assert.equal(byAddr.get(hb)!.weight, 3);
});

test('a reload hands host state over: the new epoch shows at once what the serving one concluded', async (t) => {
  const [a, b] = await Promise.all([startBackendProcess(t, 'a'), startBackendProcess(t, 'b')]);
  const late = await freePort();
  const [port, adminPort] = [await freePort(), await freePort()];
  const hl = `127.0.0.1:${late}`;
  // Checks every 10 s, and 3 passes to come back: epoch 0's first round marks `late` unhealthy
  // (nothing listens yet) and nothing in this test can change its mind.
  const inst = await startProxyctl(
    t,
    clusterConfig({
      port,
      adminPort,
      cluster: [
        `endpoints: [127.0.0.1:${a.port}, 127.0.0.1:${b.port}, ${hl}]`,
        'healthCheck: { http: { path: /healthz }, interval: 10s, timeout: 200ms, unhealthyThreshold: 1, healthyThreshold: 3 }',
      ],
    }),
  );
  assert.deepEqual((await statusClusters(inst)).hosts.get(hl)!.flags, ['failed_active_hc']);
  // Now it would pass a check: a new epoch that judged it by its own first round would find it healthy.
  await startBackendProcess(t, 'late', late);

  // The warm standby's path (activate), then a fresh epoch's (getConfig).
  for (const args of [['reload', '--json'], ['reload', '--cold', '--json']]) {
    const r = await inst.cli(args);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const events = (r.json.timeline as { event: string }[]).map((e) => e.event);
    assert.equal(events.includes('standby_taken'), !args.includes('--cold'), events.join(' '));
    const { epoch, hosts } = await statusClusters(inst);
    assert.equal(epoch, r.json.epoch, 'the new epoch answers');
    assert.deepEqual(hosts.get(hl)!.flags, ['failed_active_hc'], `epoch ${epoch} after ${args.join(' ')}`);
    assert.equal(hosts.get(hl)!.health, 'unhealthy');
    const info = JSON.parse((await admin(adminPort, '/server_info')).body) as { epoch: number };
    assert.equal(info.epoch, r.json.epoch);
    const text = await admin(adminPort, '/clusters');
    assert.ok(text.body.includes(`app::${hl}::health_flags::/failed_active_hc\n`), text.body);
  }
  assert.doesNotMatch(inst.log(), /gave no cluster state/);
});
