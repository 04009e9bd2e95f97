/** What a hash policy hashes from a request head: a header (any case), a cookie, the client address; body bytes never. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hash32 } from '../src/proxy/lb/index.js';
import { requestHash } from '../src/proxy/upstream/request-hash.js';

const head = (fields: string, body = ''): Buffer => Buffer.from(`GET / HTTP/1.1\r\nhost: a\r\n${fields}\r\n${body}`, 'latin1');

test('a header is found in any case and trimmed; absent, or only in the body, it gives no hash', () => {
  assert.equal(requestHash({ header: 'x-user' }, head('X-User:  alice \r\n'), '10.0.0.1'), hash32('alice'));
  assert.equal(requestHash({ header: 'x-user' }, head('x-user-id: bob\r\n'), '10.0.0.1'), -1);
  assert.equal(requestHash({ header: 'x-user' }, head('content-length: 14\r\n', 'x-user: mallory'), '10.0.0.1'), -1);
});

test('a cookie is found among several and in a second Cookie field; a prefix of its name is not it', () => {
  assert.equal(requestHash({ cookie: 'sid' }, head('cookie: a=1; sid=abc; b=2\r\n'), '10.0.0.1'), hash32('abc'));
  assert.equal(requestHash({ cookie: 'sid' }, head('cookie: a=1\r\nCookie: sid=xyz\r\n'), '10.0.0.1'), hash32('xyz'));
  assert.equal(requestHash({ cookie: 'sid' }, head('cookie: sidx=1\r\n'), '10.0.0.1'), -1);
});

test('sourceIp hashes the client address whatever the head says', () => {
  assert.equal(requestHash({ sourceIp: true }, head(''), '10.0.0.1'), hash32('10.0.0.1'));
});
