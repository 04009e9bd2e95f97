import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EscapedSlashesPolicy } from '../src/config/index.js';
import {
  PATH_ESCAPED_SLASH,
  PATH_INVALID,
  PATH_UNCHANGED,
  absoluteFormAuthority,
  normalizeTarget,
  normalizeTargetString,
  type PathResult,
} from '../src/proxy/router/index.js';
import { routeRaw, select, summary, tableFrom } from './fixtures/router-util.js';

const show = (r: PathResult): string => (r === PATH_UNCHANGED ? 'unchanged' : r === PATH_INVALID ? '400' : r === PATH_ESCAPED_SLASH ? '400-escaped-slash' : r);

/** Both entry points (bytes inside a larger buffer, and a string) must agree. */
function norm(target: string, policy: EscapedSlashesPolicy = 'keep'): string {
  const buf = Buffer.from(`GET ${target} HTTP/1.1\r\n#trailing bytes: a # after the target must not count\r\n`, 'latin1');
  const fromBytes = show(normalizeTarget(buf, 4, 4 + Buffer.byteLength(target, 'latin1'), policy));
  const fromString = show(normalizeTargetString(target, policy));
  assert.equal(fromBytes, fromString, `bytes and string disagree on ${target}`);
  return fromBytes;
}

test('already-normal paths are reported unchanged', () => {
  for (const p of ['/', '/a', '/a/b/', '/a.b/c..d/...', '/.well-known/x', '/a/b?x=/../y//z', '/%20/%C3%A9', '/a%2Fb', '/a%5Cb', '/~user/a-b_c', '/a?']) {
    assert.equal(norm(p), 'unchanged', p);
  }
});

test('dot segments and duplicate slashes (RFC 3986 §5.2.4); .. never climbs above /', () => {
  const corpus: [string, string][] = [
    ['/a/../b', '/b'],
    ['/a/./b/', '/a/b/'],
    ['//a///b', '/a/b'],
    ['/..', '/'],
    ['/../..', '/'],
    ['/../../etc/passwd', '/etc/passwd'],
    ['/a/..', '/'],
    ['/a/.', '/a/'],
    ['/a/b/..', '/a/'],
    ['/a/b/../', '/a/'],
    ['/./', '/'],
    ['//', '/'],
    ['/a//..//b', '/b'], // slashes are merged first, so .. takes a real segment
    ['/a/b/../../../c', '/c'],
    ['/a/./../b/./c/.', '/b/c/'],
    ['/a/..?x=../y', '/?x=../y'],
    ['/a/./b?q=/./', '/a/b?q=/./'],
  ];
  for (const [input, want] of corpus) assert.equal(norm(input), want, input);
});

test('escapes: unreserved ones decoded, the rest upper-cased; bad ones are a 400', () => {
  const corpus: [string, string][] = [
    ['/%2e%2e/x', '/x'],
    ['/%2E%2E/%2e/x', '/x'],
    ['/a/%2e%2e', '/'],
    ['/a/.%2e/b', '/b'],
    ['/%41%62%7e%2D%5f%30', '/Ab~-_0'],
    ['/%c3%a9?q=%c3%a9', '/%C3%A9?q=%c3%a9'],
    ['/a%20b%3f', '/a%20b%3F'],
    ['/%25', 'unchanged'],
    ['/%252e', 'unchanged'],
    ['/%zz', '400'],
    ['/%', '400'],
    ['/%4', '400'],
    ['/a%4g', '400'],
    ['/a?q=%zz', 'unchanged'],
  ];
  for (const [input, want] of corpus) assert.equal(norm(input), want, input);
});

test('%2F and %5C under each pathWithEscapedSlashes policy', () => {
  const corpus: [string, EscapedSlashesPolicy, string][] = [
    ['/a%2Fb', 'keep', 'unchanged'],
    ['/a%2fb', 'keep', '/a%2Fb'],
    ['/a%2fb', 'reject', '400-escaped-slash'],
    ['/a%2Fb', 'unescape', '/a/b'],
    ['/a%5cb', 'keep', '/a%5Cb'],
    ['/a%5Cb', 'reject', '400-escaped-slash'],
    ['/a%5Cb', 'unescape', '/a\\b'],
    ['/a/..%2f..', 'keep', '/a/..%2F..'],
    ['/a/..%2f..', 'reject', '400-escaped-slash'],
    ['/a/..%2f..', 'unescape', '/'],
    ['/a/b%2F%2F..%2Fc', 'unescape', '/a/c'],
    ['/a/b?x=%2F', 'reject', 'unchanged'],
  ];
  for (const [input, policy, want] of corpus) assert.equal(norm(input, policy), want, `${input} (${policy})`);
});

test('request-target forms: absolute-form becomes origin-form; others, fragments and userinfo are a 400', () => {
  const corpus: [string, string][] = [
    ['http://h/a/../b?q=1/../x', '/b?q=1/../x'],
    ['http://h', '/'],
    ['HTTPS://H:8443?x=1', '/?x=1'],
    ['http://h/a/b', '/a/b'],
    ['http://h//a', '/a'],
    ['*', '400'],
    ['h:443', '400'],
    ['ftp://h/a', '400'],
    ['http:///a', '400'],
    ['http://user@h/a', '400'],
    ['http://h#x', '400'],
    ['/a#b', '400'],
    ['/a?b#c', '400'],
    ['a/b', '400'],
  ];
  for (const [input, want] of corpus) assert.equal(norm(input), want, input);
  assert.equal(absoluteFormAuthority('http://Host:81/x'), 'Host:81');
  assert.equal(absoluteFormAuthority('https://h?x'), 'h');
  assert.equal(absoluteFormAuthority('/x'), null);
});

test('normalizePath: false leaves the path as sent but still reduces absolute-form', () => {
  const buf = Buffer.from('/a/../b');
  assert.equal(normalizeTarget(buf, 0, buf.length, 'keep', false), PATH_UNCHANGED);
  assert.equal(normalizeTargetString('http://h/a/../b', 'keep', false), '/a/../b');
  assert.equal(normalizeTargetString('*', 'keep', false), PATH_INVALID);
  const t = tableFrom(`    normalizePath: false
    routes:
      - { match: { prefix: /a/ }, directResponse: { status: 201 } }
      - { match: { prefix: / }, directResponse: { status: 202 } }
`);
  const r = routeRaw(t, 'GET /a/../b HTTP/1.1\r\nHost: h\r\n\r\n');
  assert.equal(summary(r.decision), 'direct:201');
  assert.equal(r.forwarded, null);
});

test('a route cannot be dodged by spelling the path another way', () => {
  const t = tableFrom(`    routes:
      - { match: { prefix: /admin/ }, directResponse: { status: 403 } }
      - { match: { prefix: / }, cluster: app }
`);
  for (const target of ['/admin/x', '//admin/x', '/./admin/x', '/x/../admin/x', '/%61dmin/x', '/%2e/admin/x', '/a/%2e%2e/admin/', 'http://h/admin/x']) {
    assert.equal(summary(routeRaw(t, `GET ${target} HTTP/1.1\r\nHost: h\r\n\r\n`).decision), 'direct:403', target);
  }
  // Kept encoded, %2F is not a separator: this is one segment, not /admin/.
  assert.equal(summary(routeRaw(t, 'GET /admin%2Fx HTTP/1.1\r\nHost: h\r\n\r\n').decision), 'cluster:app');
});

test('routeHttp1 (byte loop when it can) and selectRoute on the normalized string always agree', () => {
  const tables = [
    tableFrom(`    routes:
      - { match: { prefix: /api/v1/ }, cluster: users }
      - { match: { prefix: /api/ }, cluster: app }
      - { match: { prefix: "/caf%C5%81" }, directResponse: { status: 203 } }
      - { match: { prefix: /a }, directResponse: { status: 201 } }
      - { match: { prefix: / }, directResponse: { status: 202 } }
`),
    tableFrom(`    virtualHosts:
      - { name: one, domains: [one.test], routes: [{ match: { prefix: /api/ }, cluster: users }, { match: { prefix: / }, directResponse: { status: 201 } }] }
      - { name: two, domains: ["*"], routes: [{ match: { prefix: /api/, caseSensitive: false }, cluster: app }, { match: { path: /a }, directResponse: { status: 202 } }] }
`),
  ];
  const targets = ['/', '/a', '/A', '/api', '/api/', '/API/x', '/api/v1/x', '/api/v1', '//api/v1/x', '/x/../api/', '/%61pi/', '/cafA', '/caf%C5%81', '/a?x', '/api?/', 'http://one.test/api/x'];
  for (const t of tables) {
    for (const host of ['one.test', 'two.test']) {
      for (const target of targets) {
        const raw = routeRaw(t, `GET ${target} HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
        const viaString = summary(select(t, target, { authority: raw.view.authority }));
        assert.equal(summary(raw.decision), viaString, `${host} ${target}`);
      }
    }
  }
});
