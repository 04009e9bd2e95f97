/**
 * The HTTP/1 request head parser (parseRequestHead). Invariants:
 * - it never throws; the result is an offset past the start, INCOMPLETE, or MALFORMED with
 *   `error` 400 or 431;
 * - the verdict, the status included, does not depend on how the bytes arrived (head-check.ts),
 *   nor on where in the buffer the head starts;
 * - an accepted head re-serializes (method SP target SP version CRLF, `name: value` lines, CRLF)
 *   to bytes that parse to the same head: start line, fields (values byte-exact: only SP/HTAB
 *   are optional whitespace, so 0xA0 stays), framing and hop-by-hop facts;
 * - limits: an accepted head is within `maxBytes` and `maxFields`, and one byte or one field
 *   less of either makes it 431. Each input also runs with small limits drawn from its own
 *   size and line count, so the edges are hit without 60 KiB inputs.
 */
import { INCOMPLETE, MALFORMED, MAX_HEAD_BYTES, MAX_HEADERS, parseRequestHead } from '../../../src/proxy/http/head.js';
import { checkOffset, checkSplits, freshHead, headRecord, serialize } from '../head-check.js';
import { HTTP_DICTIONARY, requestHead } from '../http-gen.js';
import { type FuzzTarget, invariant } from '../target.js';

function lineCount(input: Buffer): number {
  let n = 0;
  for (let p = input.indexOf(10); p >= 0; p = input.indexOf(10, p + 1)) n++;
  return n;
}

function checkWith(input: Buffer, maxBytes: number, maxFields: number): void {
  const h = freshHead(maxBytes, maxFields);
  const r = parseRequestHead(input, 0, h);
  invariant(r > 0 || r === INCOMPLETE || (r === MALFORMED && (h.error === 400 || h.error === 431)), `result ${r} with error ${h.error}`);
  // The line offsets live in arrays every MessageHead of the thread shares: read them now.
  const rec = r > 0 ? headRecord(input, h, false) : null;
  const count = h.count;
  checkSplits(parseRequestHead, input, maxBytes, maxFields, false);
  checkOffset(parseRequestHead, input, maxBytes, maxFields);
  if (rec === null) return;
  invariant(r <= maxBytes && count <= maxFields, `accepted a ${r}-byte head with ${count} fields past the limits ${maxBytes}/${maxFields}`);

  const tight = freshHead(r, count);
  invariant(parseRequestHead(input, 0, tight) === r, 'refused at limits equal to its own size and field count');
  const short = freshHead(r - 1, maxFields);
  invariant(parseRequestHead(input, 0, short) === MALFORMED && short.error === 431, `a ${r}-byte head under maxBytes ${r - 1} got error ${short.error}`);
  if (count > 0) {
    const few = freshHead(maxBytes, count - 1);
    invariant(parseRequestHead(input, 0, few) === MALFORMED && few.error === 431, `a head of ${count} fields under maxFields ${count - 1} got error ${few.error}`);
  }

  const again = serialize(rec, false);
  const h2 = freshHead(again.length, count);
  const r2 = parseRequestHead(again, 0, h2);
  invariant(r2 === again.length, `the re-serialized head got ${r2} (error ${h2.error})`);
  invariant(JSON.stringify(headRecord(again, h2, false)) === JSON.stringify(rec), 'the re-serialized head parses to another head');
}

const target: FuzzTarget = {
  name: 'http1-request',
  generate: requestHead,
  dictionary: [...HTTP_DICTIONARY, 'GET ', 'HEAD ', ' / ', 'Connection: upgrade, x-a\r\n', 'x-a: 1\r\n'],
  check(input) {
    checkWith(input, MAX_HEAD_BYTES, MAX_HEADERS);
    checkWith(input, Math.max(1, Math.floor(input.length * 0.6)), Math.max(1, lineCount(input) - 3));
  },
};
export default target;
