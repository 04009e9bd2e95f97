/**
 * Filter chains in the config: their normalized shape, and the mistakes refused with their
 * place — a match on what only the TLS inspector knows without one, bad ranges and names,
 * chains that tie, keys of the other protocol — and the selection rule on its own (Envoy's
 * order, most specific wins, no going back).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig, type ConfigIssue } from '../src/config/index.js';
import type { FilterChainMatchConfig, TcpListenerConfig } from '../src/config/types.js';
import { addressBytes } from '../src/config/cidr.js';
import { isProxyctlError } from '../src/errors.js';
import { FilterChainSelector } from '../src/proxy/filter-chains/select.js';
import type { ConnectionFacts } from '../src/proxy/filter-chains/types.js';

const TCP = (chains: string, extra = '    listenerFilters: [{ tlsInspector: {} }]\n'): string => `listeners:
  - name: edge
    address: 127.0.0.1:8443
    protocol: tcp
${extra}    filterChains:
${chains}
clusters:
  - { name: a, endpoints: [127.0.0.1:1] }
  - { name: b, endpoints: [127.0.0.1:2] }
`;

function refused(text: string): ConfigIssue[] {
  try {
    parseConfig(text, 'test.yaml', { cpus: 1 });
  } catch (err: unknown) {
    assert.ok(isProxyctlError(err, 'PROXYCTL_ERR_CONFIG_INVALID'));
    return err.details.errors as ConfigIssue[];
  }
  assert.fail('the config was accepted');
}

test('normalized: defaults filled in, names lower-cased, ranges canonical, chain names default to their index; no default chain needed', () => {
  const { config } = parseConfig(
    TCP(`      - name: api
        match: { serverNames: [API.Example.com, "*.Example.com"], alpn: [h2], sourceCidrs: [10.1.2.3/8, "2001:DB8::1/32"], destinationPort: 443, transport: tls }
        cluster: a
      - cluster: b`),
    'test.yaml',
    { cpus: 1 },
  );
  const l = config.listeners[0] as TcpListenerConfig;
  assert.equal(l.cluster, undefined);
  assert.deepEqual(l.listenerFilters, [{ tlsInspector: { timeoutMs: 3000 } }]);
  assert.deepEqual(l.filterChains, [
    { name: 'api', match: { destinationPort: 443, serverNames: ['api.example.com', '*.example.com'], transport: 'tls', alpn: ['h2'], sourceCidrs: ['10.0.0.0/8', '2001:db8::/32'] }, cluster: 'a' },
    { name: '#1', match: { destinationPort: null, serverNames: [], transport: null, alpn: [], sourceCidrs: [] }, cluster: 'b' },
  ]);
});

test('an http chain carries its own routes form, filters and head limits; the listener may keep its own routes as the default chain', () => {
  const { config } = parseConfig(
    `listeners:
  - name: web
    address: 127.0.0.1:8080
    protocol: http
    routes: [{ match: { prefix: / }, directResponse: { status: 200, body: default } }]
    filterChains:
      - match: { sourceCidrs: [127.0.0.2/32] }
        http2: true
        allowConnect: true
        maxRequestHeaders: 10
        virtualHosts: [{ name: v, domains: ["*"], routes: [{ match: { prefix: / }, directResponse: { status: 200, body: chain } }] }]
`,
    'test.yaml',
    { cpus: 1 },
  );
  const chain = config.listeners[0]?.filterChains?.[0] as unknown as Record<string, unknown>;
  assert.equal(chain.http2, true);
  assert.equal(chain.maxRequestHeaders, 10);
  assert.equal(chain.allowConnect, true);
  assert.equal(config.listeners[0]?.protocol === 'http' ? config.listeners[0].allowConnect : null, undefined, 'the listener keeps its own');
  assert.deepEqual(chain.routes, []);
  assert.equal((chain.virtualHosts as unknown[]).length, 1);
});

test('refused, each at its place: SNI/ALPN/transport tls without a tlsInspector, bad ranges, names and ports', () => {
  const noInspector = refused(TCP(`      - match: { serverNames: [a.test], alpn: [h2], transport: tls }\n        cluster: a`, ''));
  assert.deepEqual(issuesAt(noInspector), [
    'listeners[0].filterChains[0].match.alpn@6',
    'listeners[0].filterChains[0].match.serverNames@6',
    'listeners[0].filterChains[0].match.transport@6',
  ]);
  const bad = refused(
    TCP(`      - match: { sourceCidrs: [10.0.0.0/33, 300.1.1.1/8, 10.0.0.0, "::1/129"], serverNames: ["*", "a..b", "*.ok.test"], destinationPort: 0, transport: quic, alpn: [] }
        cluster: a`),
  );
  assert.deepEqual(issuesAt(bad), [
    'listeners[0].filterChains[0].match.alpn@7',
    'listeners[0].filterChains[0].match.destinationPort@7',
    'listeners[0].filterChains[0].match.serverNames[0]@7',
    'listeners[0].filterChains[0].match.serverNames[1]@7',
    'listeners[0].filterChains[0].match.sourceCidrs[0]@7',
    'listeners[0].filterChains[0].match.sourceCidrs[1]@7',
    'listeners[0].filterChains[0].match.sourceCidrs[2]@7',
    'listeners[0].filterChains[0].match.sourceCidrs[3]@7',
    'listeners[0].filterChains[0].match.transport@7',
  ]);
  for (const i of bad) assert.equal(i.file, 'test.yaml');
});

test('refused: chains that tie for some connection, duplicate names, and keys of the other protocol', () => {
  const tie = refused(
    TCP(`      - { name: x, match: { serverNames: [a.test, b.test], sourceCidrs: [10.0.0.0/8] }, cluster: a }
      - { name: x, match: { serverNames: [b.test], sourceCidrs: [10.9.9.9/8] }, cluster: b }
      - { match: { serverNames: [b.test], sourceCidrs: [10.0.0.0/16] }, cluster: b }
      - { cluster: a }
      - { cluster: b }`),
  );
  assert.deepEqual(issuesAt(tie), ['listeners[0].filterChains[1].match@8', 'listeners[0].filterChains[1].name@8', 'listeners[0].filterChains[4]@11']);

  const shapes = refused(`listeners:
  - name: t
    address: 127.0.0.1:1
    protocol: tcp
    filterChains:
      - { routes: [{ match: { prefix: / }, directResponse: { status: 200 } }], http2: true, match: { destinationPort: 1 } }
      - { cluster: nope }
  - name: h
    address: 127.0.0.1:2
    protocol: http
    listenerFilters: [{ tlsInspector: {}, proxyProtocol: {} }, {}]
    filterChains:
      - { cluster: a }
      - { routes: [], match: { alpn: [h2] } }
      - { routes: [{ match: { prefix: / }, cluster: a }], virtualHosts: [{ name: v, domains: ["*"], routes: [{ match: { prefix: / }, cluster: a }] }], match: { transport: raw } }
      - { routes: [{ match: { prefix: / }, cluster: a }], allowConnect: true, httpFilters: [{ headers: {} }], match: { destinationPort: 2 } }
clusters:
  - { name: a, endpoints: [127.0.0.1:9] }
`);
  assert.deepEqual(issuesAt(shapes), [
    'listeners[0].filterChains[0].cluster@6',
    'listeners[0].filterChains[0].http2@6',
    'listeners[0].filterChains[0].routes@6',
    'listeners[0].filterChains[1].cluster@7',
    'listeners[1].filterChains[0].cluster@13',
    'listeners[1].filterChains[0].routes@13',
    'listeners[1].filterChains[1].routes@14',
    'listeners[1].filterChains[2].virtualHosts@15',
    'listeners[1].filterChains[3].allowConnect@16',
    'listeners[1].listenerFilters[0]@11',
    'listeners[1].listenerFilters[1]@11',
  ]);
});

function issuesAt(issues: readonly ConfigIssue[]): string[] {
  return issues.map((i) => `${i.path}@${i.line}`).sort();
}

const ANY: FilterChainMatchConfig = { destinationPort: null, serverNames: [], transport: null, alpn: [], sourceCidrs: [] };

function facts(over: Partial<Omit<ConnectionFacts, 'source'>> & { from?: string } = {}): ConnectionFacts {
  return { destinationPort: over.destinationPort ?? 443, source: addressBytes(over.from ?? '192.0.2.1'), serverName: over.serverName ?? null, alpn: over.alpn ?? [], transport: over.transport ?? 'raw' };
}

function selector(matches: Array<Partial<FilterChainMatchConfig>>): FilterChainSelector<number> {
  return new FilterChainSelector(matches.map((m, i) => ({ match: { ...ANY, ...m }, value: i })));
}

test('selection: an exact name beats the longest wildcard, which beats a shorter one; no SNI matches only chains without names', () => {
  const s = selector([{ serverNames: ['*.example.com'] }, { serverNames: ['*.api.example.com'] }, { serverNames: ['www.api.example.com'] }, {}]);
  assert.equal(s.select(facts({ serverName: 'www.api.example.com' })), 2);
  assert.equal(s.select(facts({ serverName: 'x.api.example.com' })), 1);
  assert.equal(s.select(facts({ serverName: 'a.b.example.com' })), 0, 'a wildcard covers any depth');
  assert.equal(s.select(facts({ serverName: 'example.com' })), 3, 'a wildcard does not cover its own suffix');
  assert.equal(s.select(facts()), 3);
});

test('selection: port first, then name, transport, ALPN and the longest source prefix; no going back after narrowing', () => {
  const s = selector([
    { destinationPort: 443, serverNames: ['a.test'], sourceCidrs: ['10.0.0.0/8'] },
    { destinationPort: 443 },
    { sourceCidrs: ['192.0.2.0/24'] },
    { sourceCidrs: ['192.0.2.7/32'] },
    { destinationPort: 8443, alpn: ['h2'] },
    { destinationPort: 8443, transport: 'tls' },
    { destinationPort: 8443, transport: 'raw', sourceCidrs: ['::/0'] },
  ]);
  assert.equal(s.select(facts({ serverName: 'a.test', from: '10.1.1.1' })), 0);
  assert.equal(s.select(facts({ serverName: 'a.test' })), null, 'narrowed to chain 0 by name, then its source does not match: chain 1 is not tried');
  assert.equal(s.select(facts({ serverName: 'b.test' })), 1);
  assert.equal(s.select(facts({ destinationPort: 80 })), 2);
  assert.equal(s.select(facts({ destinationPort: 80, from: '192.0.2.7' })), 3);
  assert.equal(s.select(facts({ destinationPort: 80, from: '::ffff:192.0.2.7' })), 3, 'an IPv4-mapped client is an IPv4 client');
  assert.equal(s.select(facts({ destinationPort: 80, from: '198.51.100.1' })), null);
  assert.equal(s.select(facts({ destinationPort: 8443, transport: 'tls', alpn: ['http/1.1', 'h2'] })), 5, 'transport is decided before ALPN');
  assert.equal(s.select(facts({ destinationPort: 8443, transport: 'raw', from: '2001:db8::1' })), 6);
  assert.equal(s.select(facts({ destinationPort: 8443, transport: 'raw' })), null);
});
