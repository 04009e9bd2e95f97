/**
 * Filter chains on a tcp listener in one data plane: the TLS inspector reads SNI and ALPN
 * without consuming the ClientHello, so a chain with no `tls` passes the TLS through and the
 * upstream completes the handshake itself (and sees the SNI); chains also split by source
 * range and, behind the PROXY protocol, by the header's addresses; a connection no chain
 * takes is closed and counted; a new snapshot moves only new connections.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer as createNetServer } from 'node:net';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { parseConfig } from '../src/config/index.js';
import type { ProxyConfig } from '../src/config/types.js';
import { tempDir } from './helpers.js';
import { run } from './fixtures/clients.js';
import { startPlane, type PlaneHandle } from './fixtures/proxy-util.js';
import { v2Header } from './fixtures/proxy-protocol-util.js';
import { eventually } from './fixtures/supervisor-util.js';
import { makeCa, makeLeaf, presented, read, tlsExchange } from './fixtures/tls-util.js';
import { helloMessage, records } from './fixtures/client-hello-util.js';
import { answering, openFrom, plainUpstream, rawExchange, tlsUpstream } from './fixtures/filter-chain-util.js';
import { linesOf } from './fixtures/access-log-util.js';
import { threadAccessLogFiles } from '../src/proxy/access-log/index.js';

function plane(t: TestContext, dir: string, yaml: string): Promise<PlaneHandle> {
  return startPlane(t, configOf(dir, yaml));
}

function configOf(dir: string, yaml: string): ProxyConfig {
  return parseConfig(yaml, join(dir, 'proxyctl.yaml'), { cpus: 1 }).config;
}

const CLUSTERS = (ports: Record<string, number>): string => `clusters:\n${Object.entries(ports).map(([n, p]) => `  - { name: ${n}, endpoints: [127.0.0.1:${p}] }`).join('\n')}\n`;

test('SNI passthrough: two chains send TLS untouched to two upstreams (openssl s_client and node:tls); an unknown name is closed and counted', async (t) => {
  const dir = tempDir(t, 'proxyctl-fc-sni-');
  makeCa(dir, 'ca');
  makeLeaf(dir, 'a', 'ca', ['a.test']);
  makeLeaf(dir, 'b', 'ca', ['*.b.test']);
  const ua = await tlsUpstream(t, dir, 'a', 'A');
  const ub = await tlsUpstream(t, dir, 'b', 'B');
  const h = await plane(
    t,
    dir,
    `listeners:
  - name: edge
    address: 127.0.0.1:8443
    protocol: tcp
    listenerFilters: [{ tlsInspector: {} }]
    accessLog: [{ path: ${join(dir, 'access.log')}, format: "%REQUESTED_SERVER_NAME% %UPSTREAM_CLUSTER%\\n" }]
    filterChains:
      - { match: { serverNames: [a.test] }, cluster: ua }
      - { match: { serverNames: ["*.b.test"] }, cluster: ub }
${CLUSTERS({ ua: ua.port, ub: ub.port })}`,
  );
  t.after(() => threadAccessLogFiles.closeAll());
  const port = h.ports.edge as number;
  const ssl = await run('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'a.test', '-CAfile', join(dir, 'ca.pem'), '-verify_return_error', '-alpn', 'h2', '-quiet']);
  assert.match(ssl.stdout, /^A a\.test h2$/m, ssl.stderr);
  const ca = read(dir, 'ca.pem');
  assert.equal(await tlsExchange(port, { servername: 'x.b.test', ca }, ''), 'B x.b.test false\n');
  assert.deepEqual(ua.seen, ['a.test h2'], 'the upstream completed the handshake the client started, SNI and ALPN included');
  assert.deepEqual(ub.seen, ['x.b.test false']);

  await assert.rejects(presented(port, { servername: 'c.test', ca }));
  await assert.rejects(presented(port, { ca, checkServerIdentity: () => undefined }), 'no SNI: no chain, no handshake');
  assert.equal(h.counter('listener.edge.no_filter_chain_match'), 2);
  assert.equal(h.counter('listener.edge.tls_inspector.tls_found'), 4);
  assert.equal(h.counter('listener.edge.tls_inspector.sni_found'), 3);
  assert.equal(h.counter('listener.edge.tls_inspector.sni_not_found'), 1);
  assert.equal(h.counter('listener.edge.tls_inspector.alpn_found'), 1);
  await eventually(() => h.plane.connections() === 0, 5_000, 'the connections to leave');
  assert.equal(h.gauge('listener.edge.downstream_cx_active'), 0);
  await threadAccessLogFiles.flushAll();
  assert.deepEqual(linesOf(join(dir, 'access.log')).sort(), ['a.test ua', 'x.b.test ub'], 'the passed-through SNI is logged; refused connections are not');
});

test('ALPN and transport: h2 to one chain, http/1.1 to another, plaintext to the raw chain, anything else to the default', async (t) => {
  const dir = tempDir(t, 'proxyctl-fc-alpn-');
  makeCa(dir, 'ca');
  makeLeaf(dir, 'a', 'ca', ['a.test']);
  const h2 = await tlsUpstream(t, dir, 'a', 'H2');
  const h1 = await tlsUpstream(t, dir, 'a', 'H1');
  const dflt = await tlsUpstream(t, dir, 'a', 'DEFAULT');
  const raw = await plainUpstream(t, 'RAW');
  const h = await plane(
    t,
    dir,
    `listeners:
  - name: edge
    address: 127.0.0.1:8443
    protocol: tcp
    cluster: dflt
    listenerFilters: [{ tlsInspector: {} }]
    filterChains:
      - { match: { alpn: [h2] }, cluster: h2 }
      - { match: { alpn: [http/1.1, spdy/3] }, cluster: h1 }
      - { match: { transport: raw }, cluster: raw }
${CLUSTERS({ h2: h2.port, h1: h1.port, dflt: dflt.port, raw })}`,
  );
  const port = h.ports.edge as number;
  const ca = read(dir, 'ca.pem');
  assert.equal(await tlsExchange(port, { servername: 'a.test', ca, ALPNProtocols: ['h2', 'http/1.1'] }, ''), 'H2 a.test h2\n');
  assert.equal(await tlsExchange(port, { servername: 'a.test', ca, ALPNProtocols: ['http/1.1'] }, ''), 'H1 a.test http/1.1\n');
  assert.equal(await tlsExchange(port, { servername: 'a.test', ca }, ''), 'DEFAULT a.test false\n');
  assert.equal(await rawExchange(port, 'hello\n'), 'RAW\n');
  assert.equal(h.counter('listener.edge.tls_inspector.tls_not_found'), 1);
  assert.equal(h.counter('listener.edge.tls_inspector.alpn_not_found'), 1);
  assert.equal(h.counter('listener.edge.no_filter_chain_match'), 0);
});

test('source ranges: 127.0.0.2/32 beats 127.0.0.0/24, which takes 127.0.0.3; 127.0.1.1 falls to the default', async (t) => {
  const dir = tempDir(t, 'proxyctl-fc-src-');
  const ports = { one: await plainUpstream(t, 'ONE'), wide: await plainUpstream(t, 'WIDE'), dflt: await plainUpstream(t, 'DEFAULT') };
  const h = await plane(
    t,
    dir,
    `listeners:
  - name: edge
    address: 127.0.0.1:9000
    protocol: tcp
    cluster: dflt
    filterChains:
      - { match: { sourceCidrs: [127.0.0.0/24] }, cluster: wide }
      - { match: { sourceCidrs: [127.0.0.2/32, "::1/128"] }, cluster: one }
${CLUSTERS(ports)}`,
  );
  const port = h.ports.edge as number;
  assert.equal(await rawExchange(port, 'x', '127.0.0.2'), 'ONE\n');
  assert.equal(await rawExchange(port, 'x', '127.0.0.3'), 'WIDE\n');
  assert.equal(await rawExchange(port, 'x', '127.0.1.1'), 'DEFAULT\n');
});

test('behind the PROXY protocol: chains match the header destination port and source, then the SNI of the hello that follows it', async (t) => {
  const dir = tempDir(t, 'proxyctl-fc-pp-');
  const ports = { p443: await plainUpstream(t, 'P443'), a443: await plainUpstream(t, 'A443'), net80: await plainUpstream(t, 'NET80'), p80: await plainUpstream(t, 'P80') };
  const h = await plane(
    t,
    dir,
    `listeners:
  - name: edge
    address: 127.0.0.1:9000
    protocol: tcp
    listenerFilters: [{ proxyProtocol: {} }, { tlsInspector: {} }]
    filterChains:
      - { match: { destinationPort: 443 }, cluster: p443 }
      - { match: { destinationPort: 443, serverNames: [a.test] }, cluster: a443 }
      - { match: { destinationPort: 80, sourceCidrs: [203.0.113.0/24] }, cluster: net80 }
      - { match: { destinationPort: 80 }, cluster: p80 }
${CLUSTERS(ports)}`,
  );
  const port = h.ports.edge as number;
  const hello = records(helloMessage({ sni: 'a.test' }));
  // The inspector decides from the bytes after the header: the client speaks first.
  assert.equal(await rawExchange(port, Buffer.concat([v2Header({ dport: 443 }), hello])), 'A443\n');
  assert.equal(await rawExchange(port, Buffer.concat([v2Header({ dport: 443 }), Buffer.from('plain')])), 'P443\n');
  assert.equal(await rawExchange(port, Buffer.concat([v2Header({ src: '203.0.113.5', dport: 80 }), Buffer.from('x')])), 'NET80\n');
  assert.equal(await rawExchange(port, Buffer.concat([v2Header({ src: '198.51.100.1', dport: 80 }), Buffer.from('x')])), 'P80\n');
  assert.equal(await rawExchange(port, Buffer.concat([v2Header({ dport: port }), Buffer.from('x')])), '', 'the real port is not the one the header names');
  assert.equal(h.counter('listener.edge.no_filter_chain_match'), 1);
});

test('a ClientHello split over many reads still picks its chain, and the upstream gets every byte', async (t) => {
  const dir = tempDir(t, 'proxyctl-fc-split-');
  makeCa(dir, 'ca');
  makeLeaf(dir, 'b', 'ca', ['b.test']);
  const ub = await tlsUpstream(t, dir, 'b', 'B');
  const other = await plainUpstream(t, 'OTHER');
  const h = await plane(
    t,
    dir,
    `listeners:
  - name: edge
    address: 127.0.0.1:8443
    protocol: tcp
    cluster: other
    listenerFilters: [{ tlsInspector: {} }]
    filterChains:
      - { match: { serverNames: [b.test] }, cluster: ub }
${CLUSTERS({ ub: ub.port, other })}`,
  );
  // A relay that sends what the client writes 7 bytes at a time, one write per timer turn
  // (half-open: the client ends its side before the answer comes back).
  const relay = createNetServer({ allowHalfOpen: true }, (c) => {
    const up = connect(h.ports.edge as number, '127.0.0.1');
    for (const x of [c, up]) x.on('error', () => {});
    up.pipe(c);
    let queue = Promise.resolve();
    c.on('data', (d: Buffer) => {
      for (let i = 0; i < d.length; i += 7) {
        const part = d.subarray(i, i + 7);
        queue = queue.then(() => new Promise<void>((r) => setTimeout(() => {
                up.write(part);
                r();
              }, 1)));
      }
    });
    c.on('end', () => void queue.then(() => up.end()));
  });
  relay.listen(0, '127.0.0.1');
  await once(relay, 'listening');
  t.after(() => new Promise<void>((r) => relay.close(() => r())));
  const rport = (relay.address() as { port: number }).port;
  assert.equal(await tlsExchange(rport, { servername: 'b.test', ca: read(dir, 'ca.pem') }, ''), 'B b.test false\n');
  assert.deepEqual(ub.seen, ['b.test false']);
  assert.equal(h.counter('listener.edge.tls_inspector.sni_found'), 1);
});

test('a hello past the read bound is closed; one that breaks the framing, and a silent client past the timeout', async (t) => {
  const dir = tempDir(t, 'proxyctl-fc-bad-');
  const raw = await plainUpstream(t, 'RAW');
  const h = await plane(
    t,
    dir,
    `listeners:
  - name: edge
    address: 127.0.0.1:9000
    protocol: tcp
    cluster: raw
    listenerFilters: [{ tlsInspector: { timeout: 200ms } }]
${CLUSTERS({ raw })}`,
  );
  const port = h.ports.edge as number;
  assert.equal(await rawExchange(port, Buffer.from([22, 3, 1, 0x40, 0, 1, 0, 0x50, 0])), '', 'a hello of 20 KiB');
  assert.equal(h.counter('listener.edge.tls_inspector.client_hello_too_large'), 1);
  assert.equal(await rawExchange(port, Buffer.from([22, 3, 1, 0, 0])), 'RAW\n', 'broken framing is not TLS: it goes on as bytes');
  assert.equal(h.counter('listener.edge.tls_inspector.tls_not_found'), 1);
  const silent = connect(port, '127.0.0.1');
  silent.on('error', () => {});
  t.after(() => silent.destroy());
  await once(silent, 'close');
  assert.equal(h.counter('listener.edge.tls_inspector.timeout'), 1);
  await eventually(() => h.plane.connections() === 0, 5_000, 'the connections to leave');
});

test('a new snapshot with other chains moves new connections only', async (t) => {
  const dir = tempDir(t, 'proxyctl-fc-reload-');
  const ports = { x: await answering(t, 'X'), y: await answering(t, 'Y'), z: await answering(t, 'Z') };
  const yaml = (chains: string): string => `listeners:
  - name: edge
    address: 127.0.0.1:9000
    protocol: tcp
    cluster: z
    filterChains:
${chains}
${CLUSTERS(ports)}`;
  const h = await plane(t, dir, yaml('      - { name: near, match: { sourceCidrs: [127.0.0.2/32] }, cluster: x }'));
  const port = h.ports.edge as number;
  const before = await openFrom(t, port, '127.0.0.2');
  assert.equal(await before.ask('1'), 'X');
  h.plane.applyConfig(configOf(dir, yaml('      - { name: near, match: { sourceCidrs: [127.0.0.3/32] }, cluster: x }\n      - { name: moved, match: { sourceCidrs: [127.0.0.2/32] }, cluster: y }')));
  assert.equal(await before.ask('2'), 'X', 'the live connection keeps its upstream');
  assert.equal(await (await openFrom(t, port, '127.0.0.2')).ask('3'), 'Y');
  assert.equal(await (await openFrom(t, port, '127.0.0.3')).ask('4'), 'X');
  assert.equal(await (await openFrom(t, port, '127.0.0.4')).ask('5'), 'Z');
});
