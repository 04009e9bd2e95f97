/**
 * The clusterState message (supervisor → epoch) and the clusters of status, over a real
 * socket: a well-formed handoff and views arrive as sent; a reply with a bad handoff or bad
 * views is refused with PROXYCTL_ERR_RPC_PROTOCOL, and only that request fails.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { ClusterStateHandoff, ClusterView } from '../src/clusters/types.js';
import { isProxyctlError } from '../src/errors.js';
import { connectRpc, type ClusterStateReply, type RpcConnection, type RpcResult, type StatusReply } from '../src/uds-rpc/index.js';
import { socketPath, startServer } from './fixtures/rpc-util.js';

const HANDOFF: ClusterStateHandoff = {
  clusters: {
    app: {
      '127.0.0.1:9001': { health: 'healthy', outlier: { ejected: false, ejectedUntil: 0, ejections: 0, lastReason: null } },
      '[::1]:9002': { health: 'unhealthy', outlier: { ejected: true, ejectedUntil: 1_800_000_000_000, ejections: 2, lastReason: 'consecutiveGatewayFailure' } },
    },
  },
};

const VIEWS: ClusterView[] = [
  {
    name: 'app',
    discovery: 'static',
    lb: 'roundRobin',
    healthy: 1,
    degraded: 0,
    panic: false,
    hosts: [
      { address: '127.0.0.1:9001', weight: 3, locality: { zone: 'z1' }, metadata: { canary: true, v: 2 }, health: 'healthy', flags: [], activeRequests: 4, outlier: null, since: 1_700_000_000_000 },
      { address: '[::1]:9002', weight: 1, locality: null, metadata: null, health: null, flags: ['failed_outlier_check'], activeRequests: 0, outlier: HANDOFF.clusters.app!['[::1]:9002']!.outlier, since: 0 },
    ],
  },
];

/** A server whose clusterState handler answers `body` (cast: the point is to send what the types forbid). */
async function answering(t: TestContext, body: unknown): Promise<RpcConnection> {
  const path = socketPath(t);
  await startServer(t, path, {
    clusterState: () => ({ body }) as RpcResult<ClusterStateReply>,
    ping: () => ({ body: { type: 'ping', pid: process.pid } }),
  });
  const conn = await connectRpc(path, { role: 'supervisor', epoch: -1 });
  t.after(() => conn.close());
  return conn;
}

test('clusterState carries the handoff and the views as sent', async (t) => {
  const conn = await answering(t, { type: 'clusterState', handoff: HANDOFF, views: VIEWS });
  const reply = await conn.request({ type: 'clusterState' });
  assert.deepEqual(reply.body, { type: 'clusterState', handoff: HANDOFF, views: VIEWS });
});

test('an epoch without clusters answers an empty handoff and no views', async (t) => {
  const conn = await answering(t, { type: 'clusterState', handoff: { clusters: {} }, views: [] });
  assert.deepEqual((await conn.request({ type: 'clusterState' })).body, { type: 'clusterState', handoff: { clusters: {} }, views: [] });
});

const outlier = HANDOFF.clusters.app!['127.0.0.1:9001']!.outlier;
const host = VIEWS[0]!.hosts[0]!;

const BAD_REPLIES: Record<string, unknown> = {
  'no handoff': { type: 'clusterState', views: [] },
  'a null handoff': { type: 'clusterState', handoff: null, views: [] },
  'clusters not an object': { type: 'clusterState', handoff: { clusters: [] }, views: [] },
  'a cluster that is a list': { type: 'clusterState', handoff: { clusters: { app: [] } }, views: [] },
  'a host that is a string': { type: 'clusterState', handoff: { clusters: { app: { h: 'healthy' } } }, views: [] },
  'an unknown health': { type: 'clusterState', handoff: { clusters: { app: { h: { health: 'fine', outlier } } } }, views: [] },
  'no outlier state': { type: 'clusterState', handoff: { clusters: { app: { h: { health: 'healthy' } } } }, views: [] },
  'a negative ejectedUntil': { type: 'clusterState', handoff: { clusters: { app: { h: { health: 'healthy', outlier: { ...outlier, ejectedUntil: -1 } } } } }, views: [] },
  'an unknown ejection reason': { type: 'clusterState', handoff: { clusters: { app: { h: { health: 'healthy', outlier: { ...outlier, lastReason: 'bad luck' } } } } }, views: [] },
  'no views': { type: 'clusterState', handoff: HANDOFF },
  'flags not strings': { type: 'clusterState', handoff: HANDOFF, views: [{ ...VIEWS[0], hosts: [{ ...host, flags: [1] }] }] },
  'a fractional weight': { type: 'clusterState', handoff: HANDOFF, views: [{ ...VIEWS[0], hosts: [{ ...host, weight: 1.5 }] }] },
  'metadata with an object value': { type: 'clusterState', handoff: HANDOFF, views: [{ ...VIEWS[0], hosts: [{ ...host, metadata: { a: {} } }] }] },
  'a locality zone that is a number': { type: 'clusterState', handoff: HANDOFF, views: [{ ...VIEWS[0], hosts: [{ ...host, locality: { zone: 1 } }] }] },
  'panic not a boolean': { type: 'clusterState', handoff: HANDOFF, views: [{ ...VIEWS[0], panic: 'no' }] },
};

test('a clusterState reply with a malformed handoff or views is refused with RPC_PROTOCOL, and the connection stays usable', async (t) => {
  for (const [what, body] of Object.entries(BAD_REPLIES)) {
    await t.test(what, async (t) => {
      const conn = await answering(t, body);
      await assert.rejects(conn.request({ type: 'clusterState' }, { timeoutMs: 2_000 }), (err: unknown) => isProxyctlError(err, 'PROXYCTL_ERR_RPC_PROTOCOL'));
      assert.equal((await conn.request({ type: 'ping' })).body.pid, process.pid);
    });
  }
});

function statusBody(extra: object): StatusReply {
  return { type: 'status', supervisor: { pid: 1, baseId: 0, uptimeMs: 5, configPath: '/x.yaml', reloading: false }, epochs: [], standby: null, ...extra };
}

test('status asks for clusters only when told to, and its reply carries views, null, or nothing', async (t) => {
  const path = socketPath(t);
  const asked: unknown[] = [];
  let answer: StatusReply = statusBody({});
  await startServer(t, path, {
    status: (req) => {
      asked.push(req.clusters);
      return { body: answer };
    },
  });
  const conn = await connectRpc(path, { role: 'cli', epoch: -1 });
  t.after(() => conn.close());
  assert.equal((await conn.request({ type: 'status' })).body.clusters, undefined);
  answer = statusBody({ clusters: null });
  assert.equal((await conn.request({ type: 'status', clusters: true })).body.clusters, null);
  answer = statusBody({ clusters: VIEWS });
  assert.deepEqual((await conn.request({ type: 'status', clusters: true })).body.clusters, VIEWS);
  assert.deepEqual(asked, [undefined, true, true]);
  answer = statusBody({ clusters: [{ ...VIEWS[0], hosts: 'none' }] });
  await assert.rejects(conn.request({ type: 'status', clusters: true }), (err: unknown) => isProxyctlError(err, 'PROXYCTL_ERR_RPC_PROTOCOL'));
  // A request whose clusters is not a boolean is refused by the server's validator, before its handler.
  const bad = { type: 'status', clusters: 'yes' } as unknown as { type: 'status' };
  await assert.rejects(conn.request(bad), (err: unknown) => isProxyctlError(err, 'PROXYCTL_ERR_RPC_REMOTE') && err.details.remoteCode === 'PROXYCTL_ERR_RPC_PROTOCOL');
  assert.equal(asked.length, 4, 'the handler never saw the bad request');
});
