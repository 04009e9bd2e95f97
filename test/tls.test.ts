/**
 * TLS with the real thing: proxyctl started as a process, curl and Node clients on loopback,
 * certificates made with openssl in the test's own directory. Termination with SNI on http
 * and tcp listeners, TLS 1.2 and 1.3, mTLS, upstream TLS with CA verification, and key files
 * checked by validate and reload (with renewed certificates picked up by a reload).
 */
import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { tempDir } from './helpers.js';
import { listenOnLoopback, startRawBackend } from './fixtures/proxy-util.js';
import { eventually, freePort, readStat, runCli, startProxyctl } from './fixtures/supervisor-util.js';
import { curl, httpsBackend, makeCa, makeLeaf, presented, read, tlsExchange } from './fixtures/tls-util.js';

/** CA `ca` with leaves a.test, b.test and a client certificate; CA `ca2` with a client certificate it signed. */
function pki(t: TestContext): string {
  const dir = tempDir(t, 'proxyctl-tls-');
  makeCa(dir, 'ca');
  makeCa(dir, 'ca2');
  makeLeaf(dir, 'a', 'ca', ['a.test', '*.a.test']);
  makeLeaf(dir, 'b', 'ca', ['b.test']);
  makeLeaf(dir, 'client', 'ca', ['client.test'], true);
  makeLeaf(dir, 'stranger', 'ca2', ['stranger.test'], true);
  return dir;
}

async function plainBackend(t: TestContext): Promise<number> {
  return listenOnLoopback(t, createServer((req, res) => res.end(`upstream ${req.url}\n`)));
}

const GET = 'GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n';

/** What came back, or null when the connection failed or closed without a byte. */
async function answer(exchange: Promise<string>): Promise<string | null> {
  const out = await exchange.catch(() => '');
  return out === '' ? null : out;
}

test('TLS termination: SNI, TLS 1.2 and 1.3, mTLS, a tcp listener, and upstream TLS with CA verification', async (t) => {
  const dir = pki(t);
  const [web, mtls, l4] = [await freePort(), await freePort(), await freePort()];
  const app = await plainBackend(t);
  const secure = await httpsBackend(t, dir, 'a');
  const echo = await startRawBackend(t, (s) => {
    s.on('data', (d: Buffer) => s.write(d));
    s.on('end', () => s.end());
  });
  const f = (name: string): string => join(dir, name);
  const inst = await startProxyctl(
    t,
    `workers: 1
listeners:
  - name: web
    address: 127.0.0.1:${web}
    protocol: http
    tls:
      certificates:
        - { certFile: ${f('a.pem')}, keyFile: ${f('a.key')} }
        - { certFile: ${f('b.pem')}, keyFile: ${f('b.key')} }
    routes:
      - match: { prefix: /secure }
        cluster: secure
      - match: { prefix: /wrong }
        cluster: wrongca
      - match: { prefix: / }
        cluster: app
  - name: mtls
    address: 127.0.0.1:${mtls}
    protocol: http
    tls:
      certificates: [{ certFile: ${f('a.pem')}, keyFile: ${f('a.key')} }]
      minVersion: TLSv1.3
      clientCertificate: { caFile: ${f('ca.pem')}, required: true }
    routes:
      - match: { prefix: / }
        directResponse: { status: 200, body: "mtls ok" }
  - name: l4
    address: 127.0.0.1:${l4}
    protocol: tcp
    tls: { certificates: [{ certFile: ${f('b.pem')}, keyFile: ${f('b.key')} }] }
    cluster: echo
clusters:
  - name: app
    endpoints: [127.0.0.1:${app}]
  - name: secure
    endpoints: [127.0.0.1:${secure}]
    tls: { sni: a.test, caFile: ${f('ca.pem')} }
  - name: wrongca
    endpoints: [127.0.0.1:${secure}]
    tls: { sni: a.test, caFile: ${f('ca2.pem')} }
  - name: echo
    endpoints: [127.0.0.1:${echo.port}]
drain: { strategy: immediate, drainTime: 1s, parentShutdownTime: 2s }
`,
  );
  const ca = read(dir, 'ca.pem');

  const viaCurl = await curl(['--resolve', `a.test:${web}:127.0.0.1`, '--cacert', f('ca.pem'), `https://a.test:${web}/hello`]);
  assert.equal(viaCurl.code, 0, viaCurl.stderr);
  assert.equal(viaCurl.stdout, 'upstream /hello\n');

  assert.equal((await presented(web, { servername: 'b.test', ca })).cn, 'b.test');
  assert.equal((await presented(web, { servername: 'x.a.test', ca })).cn, 'a.test', 'a wildcard name');
  assert.equal((await presented(web, { rejectUnauthorized: false })).cn, 'a.test', 'no SNI: the first certificate');
  assert.equal((await presented(web, { servername: 'unknown.test', rejectUnauthorized: false })).cn, 'a.test', 'an unknown name: the first certificate');
  const h2 = await presented(web, { servername: 'a.test', ca, ALPNProtocols: ['h2', 'http/1.1'] });
  assert.equal(h2.alpn, 'h2', 'h2 is offered first by default');
  assert.equal(h2.protocol, 'TLSv1.3');
  assert.equal((await presented(web, { servername: 'a.test', ca, ALPNProtocols: ['http/1.1'] })).alpn, 'http/1.1');
  // curl picks h2 by ALPN, and HTTP/1.1 when told to: both are proxied.
  for (const [flag, version] of [['--http2', '2'], ['--http1.1', '1.1']] as const) {
    const r = await curl([flag, '-w', ' %{http_version}', '--resolve', `a.test:${web}:127.0.0.1`, '--cacert', f('ca.pem'), `https://a.test:${web}/alpn`]);
    assert.equal(r.stdout, `upstream /alpn\n ${version}`, flag);
  }

  const tls12 = await curl(['-v', '--tlsv1.2', '--tls-max', '1.2', '--resolve', `b.test:${web}:127.0.0.1`, '--cacert', f('ca.pem'), `https://b.test:${web}/v12`]);
  assert.equal(tls12.code, 0, tls12.stderr);
  assert.equal(tls12.stdout, 'upstream /v12\n');
  assert.match(tls12.stderr, /SSL connection using TLSv1\.2/);
  assert.equal((await presented(web, { servername: 'a.test', ca, maxVersion: 'TLSv1.2' })).protocol, 'TLSv1.2');

  // mTLS: no certificate, or one from another CA, is refused; the CA's client certificate gets through.
  // With TLS 1.3 the client's side of the handshake is done before the server has checked its
  // certificate: a refusal is an alert or a close, and in either case no response.
  assert.equal(await answer(tlsExchange(mtls, { servername: 'a.test', ca }, GET)), null);
  assert.equal(await answer(tlsExchange(mtls, { servername: 'a.test', ca, cert: read(dir, 'stranger.pem'), key: read(dir, 'stranger.key') }, GET)), null);
  const withCert = await tlsExchange(mtls, { servername: 'a.test', ca, cert: read(dir, 'client.pem'), key: read(dir, 'client.key') }, GET);
  assert.match(withCert, /^HTTP\/1\.1 200 /);
  assert.match(withCert, /mtls ok$/);
  // minVersion TLSv1.3: a TLS 1.2 client is refused.
  await assert.rejects(presented(mtls, { servername: 'a.test', ca, maxVersion: 'TLSv1.2', cert: read(dir, 'client.pem'), key: read(dir, 'client.key') }));

  // A tcp listener terminating TLS in front of a plain echo backend.
  assert.equal(await tlsExchange(l4, { servername: 'b.test', ca }, 'ping over tls'), 'ping over tls');

  // Upstream TLS: verified against the right CA it passes; against another CA it is a connect failure and a 503.
  const up = await curl(['--resolve', `a.test:${web}:127.0.0.1`, '--cacert', f('ca.pem'), `https://a.test:${web}/secure/x`]);
  assert.equal(up.stdout, 'secure /secure/x\n');
  const wrong = await curl(['-o', '/dev/null', '-w', '%{http_code}', '--resolve', `a.test:${web}:127.0.0.1`, '--cacert', f('ca.pem'), `https://a.test:${web}/wrong`]);
  assert.equal(wrong.stdout, '503');

  await eventually(() => readStat(inst, 'cluster.wrongca.upstream_cx_connect_fail') >= 1n, 5_000, 'wrongca connect failure counted');
  assert.equal(readStat(inst, 'cluster.secure.upstream_cx_connect_fail'), 0n);
  await eventually(() => readStat(inst, 'listener.web.ssl.handshake') === 13n, 5_000, 'web handshakes counted');
  assert.equal(readStat(inst, 'listener.web.ssl.connection_error'), 0n);
  await eventually(() => readStat(inst, 'listener.mtls.ssl.fail_verify_no_cert') === 1n, 5_000, 'a missing client certificate counted');
  await eventually(() => readStat(inst, 'listener.mtls.ssl.fail_verify_error') === 1n, 5_000, 'a bad client certificate counted');
  assert.equal(readStat(inst, 'listener.mtls.ssl.handshake'), 1n);
  await eventually(() => readStat(inst, 'listener.mtls.ssl.connection_error') >= 1n, 5_000, 'the TLS 1.2 client counted as a connection error');
  assert.equal(readStat(inst, 'listener.l4.ssl.handshake'), 1n);
});

function keyReloadYaml(port: number, dir: string, body: string): string {
  return `workers: 1
listeners:
  - name: web
    address: 127.0.0.1:${port}
    protocol: http
    tls:
      certificates:
        - certFile: a.pem
          keyFile: a.key
    routes:
      - match: { prefix: / }
        directResponse: { status: 200, body: "${body}" }
drain: { strategy: immediate, drainTime: 1s, parentShutdownTime: 2s }
`.replace(/(certFile|keyFile): (a\.\w+)/g, (_, k: string, v: string) => `${k}: ${dir === '' ? v : join(dir, v)}`);
}

test('a readable key file fails validate and reload with exit 78 while the old epoch serves; renewed files are served after a reload', async (t) => {
  const dir = pki(t);
  const port = await freePort();
  const inst = await startProxyctl(t, keyReloadYaml(port, dir, 'v1'));
  // The same config beside the certificates, with relative paths (resolved against its directory).
  const relative = join(dir, 'proxyctl.yaml');
  writeFileSync(relative, keyReloadYaml(port, '', 'v2'));
  const get = () => curl(['--resolve', `a.test:${port}:127.0.0.1`, '--cacert', join(dir, 'ca.pem'), `https://a.test:${port}/`]);
  assert.equal((await get()).stdout, 'v1');
  const before = await presented(port, { servername: 'a.test', ca: read(dir, 'ca.pem') });

  chmodSync(join(dir, 'a.key'), 0o644);
  const validate = await runCli(['validate', relative, '--json']);
  assert.equal(validate.code, 78);
  assert.equal(validate.json.error.code, 'PROXYCTL_ERR_CONFIG_INVALID');
  assert.deepEqual(
    validate.json.error.details.errors.map((e: { line: number; col: number; path: string }) => [e.line, e.col, e.path]),
    [[9, 11, 'listeners[0].tls.certificates[0].keyFile']],
  );
  const refused = await inst.cli(['reload', '--json', '--config', relative]);
  assert.equal(refused.code, 78, refused.stdout + refused.stderr);
  assert.equal(refused.json.error.code, 'PROXYCTL_ERR_CONFIG_INVALID');
  // The same file the epoch runs: re-read (not the cached parse), and refused the same way.
  assert.equal((await inst.cli(['reload', '--json'])).code, 78);
  assert.equal((await get()).stdout, 'v1', 'the serving epoch still serves');

  chmodSync(join(dir, 'a.key'), 0o600);
  makeLeaf(dir, 'a', 'ca', ['a.test']); // renewed: new key and certificate at the same paths
  const reloaded = await inst.cli(['reload', '--json']);
  assert.equal(reloaded.code, 0, reloaded.stdout + reloaded.stderr);
  const after = await presented(port, { servername: 'a.test', ca: read(dir, 'ca.pem') });
  assert.notEqual(after.serial, before.serial);
  assert.equal((await get()).stdout, 'v1');
});
