/**
 * The hot-restart RPC framer (src/uds-rpc/framing.ts). An input is: one byte A (its low 3 bits:
 * how many fd batches), A pairs (frame index, fd count), then the byte stream. A batch of fake
 * fds (1_000_000 and up: never one of this process's) arrives with the read that returns the
 * first byte of that frame, as on Linux (see the wire format). Invariants:
 * - the decoder throws nothing but PROXYCTL_ERR_RPC_PROTOCOL, and the same reason, however the
 *   stream is split into reads; the frames it delivers are a prefix of the same frames, all of
 *   them when there is no error; it never holds more than one frame's bytes;
 * - no fd is lost or doubled: delivered plus unclaimed is every fd that arrived;
 * - each frame re-encodes (encodeFrame) to exactly the bytes it came from.
 */
import fc from 'fast-check';
import { ProxyctlError } from '../../../src/errors.js';
import { type DecodedFrame, encodeFrame, FrameDecoder, HEADER_BYTES, MAX_FDS_PER_FRAME, MAX_PAYLOAD_BYTES } from '../../../src/uds-rpc/framing.js';
import { splitPoints } from '../splits.js';
import { type FuzzTarget, invariant } from '../target.js';

const FAKE_FD_BASE = 1_000_000;

interface Run {
  frames: DecodedFrame[];
  /** `code/reason` of the error, or null. */
  error: string | null;
  /** The fds that arrived before the decoder stopped. */
  arrived: number[];
  unclaimed: number[];
  buffered: number;
}

/** Where each frame starts and ends, by the lengths in the headers (as far as they can be read). */
function frameSpans(stream: Buffer): [number, number][] {
  const spans: [number, number][] = [];
  for (let p = 0; p < stream.length; ) {
    const len = p + 4 > stream.length ? 0 : stream.readUInt32BE(p);
    const end = Math.min(stream.length, p + HEADER_BYTES + Math.min(len, MAX_PAYLOAD_BYTES));
    spans.push([p, end]);
    if (len > MAX_PAYLOAD_BYTES) break;
    p = end;
  }
  return spans;
}

/**
 * Feeds `stream` in reads that end at `cuts` and at `fixed`, each read with the fds that arrive
 * with its first byte. `fixed` holds where a frame with fds starts and ends: a recvmsg that
 * returns fds starts at that message's first byte and never reads past its last.
 */
function run(stream: Buffer, fdsAt: Map<number, number[]>, fixed: readonly number[], cuts: readonly number[]): Run {
  const d = new FrameDecoder();
  const frames: DecodedFrame[] = [];
  const arrived: number[] = [];
  const ends = [...new Set([...cuts, ...fixed, stream.length])].filter((c) => c > 0 && c <= stream.length).sort((a, b) => a - b);
  let from = 0;
  try {
    for (const to of ends) {
      const fds = fdsAt.get(from);
      if (fds !== undefined) {
        d.addFds(fds);
        arrived.push(...fds);
      }
      frames.push(...d.push(stream.subarray(from, to)));
      d.checkStrayFds();
      invariant(d.bufferedBytes <= HEADER_BYTES + MAX_PAYLOAD_BYTES, `${d.bufferedBytes} bytes held`);
      from = to;
    }
  } catch (err: unknown) {
    if (!(err instanceof ProxyctlError)) throw err;
    return { frames, error: `${err.code}/${String(err.details.reason)}`, arrived, unclaimed: d.takeUnclaimedFds(), buffered: d.bufferedBytes };
  }
  return { frames, error: null, arrived, unclaimed: d.takeUnclaimedFds(), buffered: d.bufferedBytes };
}

const view = (f: DecodedFrame): string => `${f.kind}:${f.id}:${f.fds.join(',')}:${f.payload.toString('hex')}`;

function check(input: Buffer): void {
  const batches = (input[0] ?? 0) & 7;
  const stream = input.subarray(1 + 2 * batches);
  const spans = frameSpans(stream);
  const fdsAt = new Map<number, number[]>();
  const fixed: number[] = [];
  let next = FAKE_FD_BASE;
  for (let i = 0; i < batches; i++) {
    const span = spans[input[1 + 2 * i] ?? 0];
    const n = input[2 + 2 * i] ?? 0;
    if (span === undefined || n === 0) continue;
    const fds = fdsAt.get(span[0]) ?? [];
    for (let k = 0; k < n; k++) fds.push(next++);
    fdsAt.set(span[0], fds);
    fixed.push(...span);
  }
  const fine = run(stream, fdsAt, fixed, stream.length <= 512 ? Array.from({ length: stream.length }, (_, i) => i) : splitPoints(stream.length));
  const whole = run(stream, fdsAt, fixed, []);
  const points = stream.length <= 256 ? splitPoints(stream.length) : splitPoints(stream.length).filter((_, i) => i % 6 === 0);
  for (const r of [whole, ...points.map((p) => run(stream, fdsAt, fixed, [p]))]) {
    invariant(r.error === fine.error, `error ${r.error} with one split, ${fine.error} with many`);
    invariant(r.error !== null || r.buffered === fine.buffered, 'another remainder held');
    const got = r.frames.map(view);
    const want = fine.frames.map(view);
    invariant(got.length <= want.length && got.every((v, i) => v === want[i]), 'other frames with another split');
    invariant(r.error !== null || got.length === want.length, 'frames missing without an error');
    const delivered = r.frames.flatMap((f) => f.fds);
    invariant(JSON.stringify([...delivered, ...r.unclaimed].sort()) === JSON.stringify([...r.arrived].sort()), 'an fd lost or doubled');
  }
  let p = 0;
  for (const f of fine.frames) {
    invariant(f.fds.length <= MAX_FDS_PER_FRAME && f.payload.length <= MAX_PAYLOAD_BYTES && f.id >= 1, 'a frame past the bounds');
    const again = encodeFrame(f.kind, f.id, f.payload, f.fds.length);
    invariant(again.equals(stream.subarray(p, p + again.length)), 'a frame does not re-encode to its bytes');
    p += again.length;
  }
}

// ---- inputs ------------------------------------------------------------------------------

const frame = fc
  .record({
    length: fc.oneof({ weight: 8, arbitrary: fc.constant(-1) }, { weight: 1, arbitrary: fc.constantFrom(MAX_PAYLOAD_BYTES, MAX_PAYLOAD_BYTES + 1, 0xffffffff) }),
    kind: fc.constantFrom(0, 1, 0, 1, 2, 255),
    fdCount: fc.constantFrom(0, 0, 0, 1, 2, MAX_FDS_PER_FRAME, MAX_FDS_PER_FRAME + 1),
    reserved: fc.constantFrom(0, 0, 0, 0, 1, 0x8000),
    id: fc.oneof(fc.integer({ min: 1, max: 0xffffffff }), fc.constant(0)),
    payload: fc.oneof(fc.json().map((j) => Buffer.from(j, 'utf8')), fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a))),
  })
  .map((f) => {
    const h = Buffer.alloc(HEADER_BYTES);
    // A length of MAX_PAYLOAD_BYTES gets a payload that long; the oversized ones are refused from the header.
    const payload = f.length === MAX_PAYLOAD_BYTES ? Buffer.alloc(MAX_PAYLOAD_BYTES, 0x20) : f.payload;
    h.writeUInt32BE(f.length === -1 || f.length === MAX_PAYLOAD_BYTES ? payload.length : f.length, 0);
    h[4] = f.kind;
    h[5] = f.fdCount;
    h.writeUInt16BE(f.reserved, 6);
    h.writeUInt32BE(f.id, 8);
    return { bytes: Buffer.concat([h, payload]), fdCount: f.fdCount };
  });
const stream = fc
  .tuple(fc.array(frame, { minLength: 1, maxLength: 5 }), fc.integer({ min: -1, max: 3 }), fc.constantFrom(0, 0, 0, 1, -1), fc.integer({ min: 0, max: 40 }))
  .map(([frames, extraAt, fdSkew, cut]) => {
    // fd batches for the frames that announce some, one off now and then, or one more stray batch.
    const batches: number[] = [];
    frames.forEach((f, i) => {
      if (f.fdCount > 0 && batches.length < 12) batches.push(i, Math.max(0, Math.min(255, f.fdCount + fdSkew)));
    });
    if (extraAt >= 0 && batches.length < 14) batches.push(extraAt, 1);
    const body = Buffer.concat(frames.map((f) => f.bytes));
    const n = batches.length / 2;
    return Buffer.concat([Buffer.from([n, ...batches]), body.subarray(0, Math.max(0, body.length - cut))]);
  });

const target: FuzzTarget = {
  name: 'rpc-framing',
  generate: stream,
  dictionary: [Buffer.from([0, 0, 0, 0]), Buffer.from([0, 1, 0, 0]), Buffer.from([0, 1, 0, 1]), Buffer.from([0xff, 0xff, 0xff, 0xff]), Buffer.from([0, 0x40]), Buffer.from([0, 0x41]), Buffer.from([0, 0, 0, 1])],
  check,
};
export default target;
