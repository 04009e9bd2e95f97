/** The decoder on its own: sizes, headers, splits, and pairing fds to frames by count. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isProxyctlError } from '../src/errors.js';
import { FrameDecoder, FrameKind, MAX_FDS_PER_FRAME, MAX_PAYLOAD_BYTES, encodeFrame, encodeJsonFrame } from '../src/uds-rpc/framing.js';
import { rawHeader } from './fixtures/rpc-util.js';

const isProtocol = (err: unknown): boolean => isProxyctlError(err, 'PROXYCTL_ERR_RPC_PROTOCOL');

test('frames round-trip, whole, coalesced and split byte by byte', () => {
  const a = encodeJsonFrame(FrameKind.REQUEST, 1, { type: 'ping' }, 0);
  const b = encodeJsonFrame(FrameKind.RESPONSE, 7, { status: 'ok', body: { type: 'ping', pid: 1 } }, 0);
  const whole = new FrameDecoder().push(Buffer.concat([a, b]));
  assert.deepEqual(whole.map((f) => [f.kind, f.id, JSON.parse(f.payload.toString())]), [
    [FrameKind.REQUEST, 1, { type: 'ping' }],
    [FrameKind.RESPONSE, 7, { status: 'ok', body: { type: 'ping', pid: 1 } }],
  ]);
  const decoder = new FrameDecoder();
  const frames = [];
  for (const byte of Buffer.concat([a, b])) frames.push(...decoder.push(Buffer.from([byte])));
  assert.equal(frames.length, 2);
  assert.equal(decoder.bufferedBytes, 0);
});

test('an oversized frame is refused from its header alone, before its payload is buffered', () => {
  const decoder = new FrameDecoder();
  // The first 11 header bytes are not enough to judge; nothing is refused yet.
  const header = rawHeader(MAX_PAYLOAD_BYTES + 1, FrameKind.REQUEST, 0, 1);
  assert.deepEqual(decoder.push(header.subarray(0, 11)), []);
  assert.throws(() => decoder.push(header.subarray(11)), isProtocol);
  // Poisoned: later bytes are refused too, and none were kept.
  assert.throws(() => decoder.push(Buffer.alloc(1024)), isProtocol);
  assert.equal(decoder.bufferedBytes, 0);

  const huge = new FrameDecoder();
  assert.throws(() => huge.push(Buffer.concat([rawHeader(0xffff_ffff, FrameKind.RESPONSE, 0, 1), Buffer.alloc(4096)])), (err: unknown) => {
    return isProtocol(err) && (err as { details: { reason?: unknown } }).details.reason === 'oversized';
  });
  assert.equal(huge.bufferedBytes, 0);
});

test('a payload of exactly the maximum is accepted', () => {
  const frame = encodeFrame(FrameKind.REQUEST, 3, Buffer.alloc(MAX_PAYLOAD_BYTES, 0x20), 0);
  const [decoded] = new FrameDecoder().push(frame);
  assert.equal(decoded?.payload.length, MAX_PAYLOAD_BYTES);
  assert.throws(() => encodeFrame(FrameKind.REQUEST, 3, Buffer.alloc(MAX_PAYLOAD_BYTES + 1), 0), isProtocol);
  assert.throws(() => encodeFrame(FrameKind.REQUEST, 3, Buffer.alloc(2), MAX_FDS_PER_FRAME + 1), isProtocol);
});

test('bad headers are protocol errors', () => {
  assert.throws(() => new FrameDecoder().push(rawHeader(0, 2, 0, 1)), isProtocol); // kind
  assert.throws(() => new FrameDecoder().push(rawHeader(0, 0, 0, 1, 1)), isProtocol); // reserved
  assert.throws(() => new FrameDecoder().push(rawHeader(0, 0, 0, 0)), isProtocol); // id 0
  assert.throws(() => new FrameDecoder().push(rawHeader(0, 0, MAX_FDS_PER_FRAME + 1, 1)), isProtocol);
});

test('fds are paired to frames by the count each header announces', () => {
  const decoder = new FrameDecoder();
  decoder.addFds([10, 11, 12]);
  const frames = decoder.push(Buffer.concat([
    encodeJsonFrame(FrameKind.REQUEST, 1, { type: 'a' }, 0),
    encodeJsonFrame(FrameKind.REQUEST, 2, { type: 'b' }, 2),
    encodeJsonFrame(FrameKind.REQUEST, 3, { type: 'c' }, 1),
  ]));
  assert.deepEqual(frames.map((f) => f.fds), [[], [10, 11], [12]]);
  assert.equal(decoder.queuedFds, 0);
});

test('fds stay queued while their frame is incomplete', () => {
  const decoder = new FrameDecoder();
  const frame = encodeJsonFrame(FrameKind.RESPONSE, 1, { status: 'ok', body: {} }, 1);
  decoder.addFds([20]);
  assert.deepEqual(decoder.push(frame.subarray(0, 5)), []);
  decoder.checkStrayFds(); // a partial frame may still claim it
  const [done] = decoder.push(frame.subarray(5));
  assert.deepEqual(done?.fds, [20]);
});

test('a frame announcing more fds than arrived is a protocol error', () => {
  const decoder = new FrameDecoder();
  assert.throws(() => decoder.push(encodeJsonFrame(FrameKind.REQUEST, 1, { type: 'ping' }, 1)), isProtocol);
  assert.deepEqual(decoder.takeUnclaimedFds(), []);
});

test('fds left over once every byte is a complete frame are a protocol error, and are handed back', () => {
  const decoder = new FrameDecoder();
  decoder.addFds([30, 31]);
  assert.throws(() => decoder.push(encodeJsonFrame(FrameKind.REQUEST, 1, { type: 'ping' }, 1)), isProtocol);
  // Frame 1 is never delivered, so both its fd and the stray one come back to be closed.
  assert.deepEqual(decoder.takeUnclaimedFds().sort(), [30, 31]);

  const idle = new FrameDecoder();
  idle.addFds([40]);
  assert.throws(() => idle.checkStrayFds(), isProtocol);
  assert.deepEqual(idle.takeUnclaimedFds(), [40]);
});
