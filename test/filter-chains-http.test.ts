/**
 * Filter chains on an http listener, end to end with curl: the TLS inspector's SNI picks the
 * chain, each chain terminates with its own certificate and routes with its own routes, ALPN
 * narrows further, plaintext takes the `transport: raw` chain (with its own h2c setting), and
 * what no chain takes gets the listener's own settings.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseConfig } from '../src/config/index.js';
import { tempDir } from './helpers.js';
import { curl } from './fixtures/clients.js';
import { startPlane } from './fixtures/proxy-util.js';
import { makeCa, makeLeaf } from './fixtures/tls-util.js';

const direct = (body: string): string => `[{ match: { prefix: / }, directResponse: { status: 200, body: ${body} } }]`;

test('chains by SNI choose certificates and routes; ALPN narrows; plaintext and unmatched names get their own', async (t) => {
  const dir = tempDir(t, 'proxyctl-fc-http-');
  makeCa(dir, 'ca');
  makeLeaf(dir, 'dflt', 'ca', ['default.test']);
  makeLeaf(dir, 'a', 'ca', ['a.test', 'h2only.test']);
  makeLeaf(dir, 'b', 'ca', ['*.b.test']);
  const cert = (f: string): string => `{ certificates: [{ certFile: ${f}.pem, keyFile: ${f}.key }] }`;
  const text = `listeners:
  - name: web
    address: 127.0.0.1:8443
    protocol: http
    listenerFilters: [{ tlsInspector: {} }]
    tls: ${cert('dflt')}
    routes: ${direct('default')}
    filterChains:
      - name: a
        match: { serverNames: [a.test] }
        tls: ${cert('a')}
        routes: ${direct('a')}
      - name: b
        match: { serverNames: ["*.b.test"] }
        tls: ${cert('b')}
        virtualHosts: [{ name: any, domains: ["*"], routes: ${direct('b')} }]
      - name: h2only
        match: { serverNames: [h2only.test], alpn: [h2] }
        tls: ${cert('a')}
        routes: ${direct('h2chain')}
      - name: plain
        match: { transport: raw }
        http2: true
        routes: ${direct('plain')}
`;
  const { config } = parseConfig(text, join(dir, 'proxyctl.yaml'), { cpus: 1 });
  const h = await startPlane(t, config);
  const port = h.ports.web as number;
  const https = (name: string, ...extra: string[]): ReturnType<typeof curl> =>
    curl(['--cacert', join(dir, 'ca.pem'), '--resolve', `${name}:${port}:127.0.0.1`, ...extra, `https://${name}:${port}/`]);

  const a = await https('a.test');
  assert.equal(a.body, 'a', a.stderr);
  assert.equal(a.httpVersion, '2', 'the chain offers the http listener ALPN default');
  assert.equal((await https('x.b.test', '--http1.1')).body, 'b', 'verified against the wildcard certificate of chain b');
  assert.equal((await https('default.test')).body, 'default');
  assert.equal((await https('h2only.test', '--http2')).body, 'h2chain');
  // Narrowed to h2only by its name, then refused by ALPN: the default chain (and certificate) takes it.
  const h1 = await https('h2only.test', '--http1.1', '-k');
  assert.equal(h1.body, 'default', h1.stderr);
  const wrongCert = await https('h2only.test', '--http1.1');
  assert.notEqual(wrongCert.code, 0, 'the default certificate is not for h2only.test');

  const plain = await curl([`http://127.0.0.1:${port}/`]);
  assert.equal(plain.body, 'plain', plain.stderr);
  const h2c = await curl(['--http2-prior-knowledge', `http://127.0.0.1:${port}/`]);
  assert.equal(h2c.body, 'plain');
  assert.equal(h2c.httpVersion, '2', 'h2c is the plain chain setting, not the listener one');

  // Six: curl checks the host name after a handshake whose chain verified (the wrong certificate is from the same CA).
  assert.equal(h.counter('listener.web.ssl.handshake'), 6);
  assert.equal(h.counter('http.web.downstream_rq_2xx'), 7);
  assert.equal(h.counter('listener.web.no_filter_chain_match'), 0);
});
