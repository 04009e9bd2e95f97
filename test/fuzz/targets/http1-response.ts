/**
 * The HTTP/1 response side: parseResponseHead, and the reading of a whole response the way
 * response-reader.ts does it (interim 1xx heads, the final head, its body framed by BodyFramer
 * in the mode the head gives) without its sockets. Invariants:
 * - it never throws; a refused head is MALFORMED with error 502, never 400 or 431;
 * - the first head's verdict does not depend on the split (head-check.ts), with the default
 *   limits and with small ones drawn from the input;
 * - an accepted head re-serializes (version SP status SP reason CRLF, `name: value` lines,
 *   CRLF) to bytes that parse to the same head; one byte or field less of the limits is 502;
 * - the whole response (the heads, where the body ends or why it broke) is the same however
 *   the bytes arrive: at once, cut once anywhere, or byte by byte.
 */
import { BAD_FRAMING, BodyFramer, BodyMode, NEED_MORE } from '../../../src/proxy/http/body.js';
import { INCOMPLETE, MALFORMED, MAX_HEAD_BYTES, MAX_HEADERS, type MessageHead, parseResponseHead } from '../../../src/proxy/http/head.js';
import { checkSplits, freshHead, headRecord, serialize } from '../head-check.js';
import { HTTP_DICTIONARY, responseMessage } from '../http-gen.js';
import { splitPoints } from '../splits.js';
import { type FuzzTarget, invariant } from '../target.js';

function bodyMode(h: MessageHead): BodyMode {
  if (h.status === 204 || h.status === 304) return BodyMode.None;
  if (h.chunked) return BodyMode.Chunked;
  if (h.otherEncoding || h.contentLength < 0) return BodyMode.UntilClose;
  return BodyMode.Length;
}

/** Reads a response from `input` arriving in the pieces `cuts` make, as the reader would. */
function readResponse(input: Buffer, cuts: number[]): string {
  const h = freshHead(MAX_HEAD_BYTES, MAX_HEADERS);
  const framer = new BodyFramer();
  const seen: string[] = [];
  let pending: Buffer | null = null;
  let base = 0; // input offset of pending's first byte
  let inBody = false;
  let from = 0;
  for (const cut of [...cuts, input.length]) {
    if (cut < from) continue;
    const chunk = input.subarray(from, cut);
    from = cut;
    if (inBody) {
      const r = framer.feed(chunk, 0, chunk.length);
      if (r === BAD_FRAMING) return `${seen.join('|')} bad-framing`;
      if (r !== NEED_MORE) return `${seen.join('|')} done ${cut - chunk.length + r}`;
      continue;
    }
    const buf: Buffer = pending === null ? chunk : Buffer.concat([pending, chunk]);
    if (pending === null) base = cut - chunk.length;
    pending = null;
    let pos = 0;
    for (;;) {
      const end = parseResponseHead(buf, pos, h);
      if (end === INCOMPLETE) {
        pending = buf.subarray(pos);
        base += pos;
        break;
      }
      if (end === MALFORMED) {
        invariant(h.error === 502, `a response head refused with ${h.error}`);
        return `${seen.join('|')} malformed`;
      }
      seen.push(JSON.stringify(headRecord(buf, h, true)));
      if (h.status === 101) return `${seen.join('|')} unasked-101`;
      if (h.status >= 200) {
        framer.reset(bodyMode(h), h.contentLength);
        const r = framer.mode === BodyMode.None ? end : framer.feed(buf, end, buf.length);
        if (r === BAD_FRAMING) return `${seen.join('|')} bad-framing`;
        if (r !== NEED_MORE) return `${seen.join('|')} done ${base + r}`;
        inBody = true;
        break;
      }
      pos = end;
      if (pos === buf.length) break;
    }
  }
  return `${seen.join('|')} ${inBody ? 'need-body' : 'need-head'}`;
}

function checkHead(input: Buffer, maxBytes: number, maxFields: number): void {
  const h = freshHead(maxBytes, maxFields);
  const r = parseResponseHead(input, 0, h);
  invariant(r > 0 || r === INCOMPLETE || (r === MALFORMED && h.error === 502), `result ${r} with error ${h.error}`);
  const rec = r > 0 ? headRecord(input, h, true) : null; // the line offsets are shared: read them now
  const count = h.count;
  checkSplits(parseResponseHead, input, maxBytes, maxFields, true);
  if (rec === null) return;
  invariant(r <= maxBytes && count <= maxFields, 'accepted a head past the limits');
  const short = freshHead(r - 1, maxFields);
  invariant(parseResponseHead(input, 0, short) === MALFORMED && short.error === 502, 'a head over maxBytes was not 502');
  if (count > 0) {
    const few = freshHead(maxBytes, count - 1);
    invariant(parseResponseHead(input, 0, few) === MALFORMED && few.error === 502, 'a head over maxFields was not 502');
  }
  const again = serialize(rec, true);
  const h2 = freshHead(again.length, count);
  invariant(parseResponseHead(again, 0, h2) === again.length, `the re-serialized head got error ${h2.error}`);
  invariant(JSON.stringify(headRecord(again, h2, true)) === JSON.stringify(rec), 'the re-serialized head parses to another head');
}

const target: FuzzTarget = {
  name: 'http1-response',
  generate: responseMessage,
  dictionary: [...HTTP_DICTIONARY, 'HTTP/1.1 200 OK\r\n', 'HTTP/1.1 100 Continue\r\n\r\n', ' 204 ', ' 304 ', ' 101 ', 'Content-Length: 0\r\n'],
  check(input) {
    checkHead(input, MAX_HEAD_BYTES, MAX_HEADERS);
    checkHead(input, Math.max(1, Math.floor(input.length * 0.6)), 2);
    const whole = readResponse(input, []);
    for (const p of splitPoints(input.length)) invariant(readResponse(input, [p]) === whole, `cut at ${p}: another response than read at once`);
    if (input.length <= 1024) invariant(readResponse(input, Array.from(input.keys())) === whole, 'read byte by byte: another response');
  },
};
export default target;
