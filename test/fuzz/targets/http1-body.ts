/**
 * The HTTP/1 body framer (BodyFramer): chunked, content-length and until-close. Invariants:
 * - it never throws;
 * - the verdict (end offset, NEED_MORE, BAD_FRAMING) and the decoded payload are the same
 *   however the bytes are split into `feed` calls: one cut anywhere, byte by byte, and pieces
 *   of sizes drawn from the input;
 * - chunked input agrees with a plain reference decoder of RFC 9112 7.1 written here (hex size
 *   up to the framer's 2^40, BWS only before ';', extensions without CTLs, trailer lines that
 *   are field lines with no CTL or DEL in the value, CRLF everywhere): bad framing is BAD_FRAMING;
 * - an accepted chunked body re-encoded with other chunk sizes and the same trailers decodes to
 *   the same payload, ending where the re-encoding ends;
 * - a Length body ends exactly at its length, an until-close body never ends.
 */
import { BAD_FRAMING, BodyFramer, BodyMode, NEED_MORE } from '../../../src/proxy/http/body.js';
import { chunkedBody, HTTP_DICTIONARY } from '../http-gen.js';
import { splitPoints } from '../splits.js';
import { type FuzzTarget, invariant } from '../target.js';

const MAX_CHUNK = 2 ** 40;
const TCHAR = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]$/;
const isCtl = (b: number): boolean => (b < 32 && b !== 9) || b === 127;

type Ref = { kind: 'done'; end: number; payload: Buffer; trailers: Buffer[] } | { kind: 'need' } | { kind: 'bad' };

/** Reference chunked decoder: slow and plain, one rule per line. */
function reference(buf: Buffer): Ref {
  let p = 0;
  const need: Ref = { kind: 'need' };
  const bad: Ref = { kind: 'bad' };
  /** Consumes a CRLF at p; null when it was one, else what the input is. */
  const crlf = (): Ref | null => {
    if (p >= buf.length) return need;
    if (buf[p] !== 13) return bad;
    if (p + 1 >= buf.length) return need;
    if (buf[p + 1] !== 10) return bad;
    p += 2;
    return null;
  };
  const parts: Buffer[] = [];
  for (;;) {
    let size = 0;
    const s0 = p;
    while (p < buf.length && /[0-9a-fA-F]/.test(String.fromCharCode(buf[p] as number))) {
      size = size * 16 + Number.parseInt(String.fromCharCode(buf[p] as number), 16);
      if (size > MAX_CHUNK) return bad;
      p++;
    }
    if (p >= buf.length) return need;
    if (p === s0) return bad;
    while (p < buf.length && (buf[p] === 32 || buf[p] === 9)) p++;
    if (p < buf.length && buf[p] === 59) {
      while (p < buf.length && buf[p] !== 13) if (isCtl(buf[p++] as number)) return bad;
    }
    const e = crlf();
    if (e !== null) return e;
    if (size === 0) break;
    if (buf.length - p < size) return need;
    parts.push(buf.subarray(p, p + size));
    p += size;
    const d = crlf();
    if (d !== null) return d;
  }
  const trailers: Buffer[] = [];
  for (;;) {
    if (p >= buf.length) return need;
    if (buf[p] === 13) {
      const e = crlf();
      return e ?? { kind: 'done', end: p, payload: Buffer.concat(parts), trailers };
    }
    const ls = p;
    while (p < buf.length && TCHAR.test(String.fromCharCode(buf[p] as number))) p++;
    if (p >= buf.length) return need;
    if (p === ls || buf[p] !== 58) return bad;
    while (p < buf.length && buf[p] !== 13) if (isCtl(buf[p++] as number)) return bad;
    const le = p;
    const e = crlf();
    if (e !== null) return e;
    trailers.push(buf.subarray(ls, le));
  }
}

/** Feeds `buf` to a fresh framer in the pieces `cuts` make; the verdict and the payload seen. */
function run(buf: Buffer, mode: BodyMode, length: number, cuts: number[]): string {
  const f = new BodyFramer();
  f.reset(mode, length);
  const payload: Buffer[] = [];
  f.sink = (b, s, e) => {
    invariant(s >= 0 && s <= e && e <= b.length, 'the sink got a range outside the buffer');
    payload.push(Buffer.from(b.subarray(s, e)));
  };
  let pos = 0;
  for (const cut of [...cuts, buf.length]) {
    if (cut < pos) continue;
    const r = f.feed(buf, pos, cut);
    if (r === BAD_FRAMING) return 'bad';
    if (r !== NEED_MORE) {
      invariant(r >= pos && r <= cut, `feed(${pos}, ${cut}) ended the body at ${r}`);
      return `done ${r} ${Buffer.concat(payload).toString('hex')}`;
    }
    pos = cut;
  }
  return `need ${Buffer.concat(payload).toString('hex')}`;
}

/** Piece boundaries of sizes 1..16 drawn from the input's own bytes (so a replay repeats them). */
function pieces(buf: Buffer): number[] {
  const cuts: number[] = [];
  let x = buf.length >>> 0;
  for (let p = 0; p < buf.length; ) {
    x = Math.imul(x ^ (buf[p] as number), 2654435761) >>> 0;
    p = Math.min(buf.length, p + 1 + (x % 16));
    cuts.push(p);
  }
  return cuts;
}

function checkSplits(buf: Buffer, mode: BodyMode, length: number): string {
  const whole = run(buf, mode, length, []);
  for (const p of splitPoints(buf.length)) invariant(run(buf, mode, length, [p]) === whole, `cut at ${p}: another verdict or payload than in one call`);
  invariant(run(buf, mode, length, pieces(buf)) === whole, 'fed in pieces: another verdict or payload');
  if (buf.length <= 2048) invariant(run(buf, mode, length, Array.from(buf.keys())) === whole, 'fed byte by byte: another verdict or payload');
  return whole;
}

function reencode(payload: Buffer, trailers: Buffer[], seed: number): Buffer {
  const out: Buffer[] = [];
  for (let p = 0, i = 0; p < payload.length; i++) {
    const n = Math.min(payload.length - p, 1 + ((seed + i * 7) % 13));
    const size = n.toString(16);
    out.push(Buffer.from(`${i % 2 === 0 ? size : size.toUpperCase()}${i % 3 === 0 ? ';r=1' : ''}\r\n`), payload.subarray(p, p + n), Buffer.from('\r\n'));
    p += n;
  }
  out.push(Buffer.from('0\r\n'), ...trailers.flatMap((t) => [t, Buffer.from('\r\n')]), Buffer.from('\r\n'));
  return Buffer.concat(out);
}

const target: FuzzTarget = {
  name: 'http1-body',
  generate: chunkedBody,
  dictionary: [...HTTP_DICTIONARY, '0\r\n', '\r\n0\r\n\r\n', ';a="b"', ' ;', '10000000000', '010000000000', 'x-t: 1\r\n'],
  check(input) {
    const chunked = checkSplits(input, BodyMode.Chunked, 0);
    const ref = reference(input);
    const expected = ref.kind === 'bad' ? 'bad' : ref.kind === 'need' ? 'need' : `done ${ref.end} ${ref.payload.toString('hex')}`;
    invariant(chunked === expected || (ref.kind === 'need' && chunked.startsWith('need')), `the framer says '${chunked.slice(0, 30)}', the reference '${expected.slice(0, 30)}'`);
    if (ref.kind === 'done') {
      const again = reencode(ref.payload, ref.trailers, input.length);
      invariant(run(again, BodyMode.Chunked, 0, []) === `done ${again.length} ${ref.payload.toString('hex')}`, 'the re-encoded body decodes to another payload or end');
    }
    const half = input.length >> 1;
    invariant(checkSplits(input, BodyMode.Length, half) === `done ${half} `, `a Length body of ${half} did not end at ${half}`);
    invariant(checkSplits(input, BodyMode.Length, input.length + 3) === 'need ', 'a Length body longer than the input ended');
    invariant(checkSplits(input, BodyMode.UntilClose, 0) === 'need ', 'an until-close body ended');
  },
};
export default target;
