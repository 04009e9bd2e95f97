/**
 * Invariants shared by the request and response head targets: what a parsed head says (as one
 * comparable record), how it re-serializes, and that its verdict does not depend on how the
 * bytes arrived. A connection parses a head by calling the parser again on a longer buffer each
 * time more bytes come, with the same `MessageHead` (its `scanOffset` carries over), so that is
 * what the split checks do.
 */
import { headerFields, INCOMPLETE, MALFORMED, MessageHead } from '../../src/proxy/http/head.js';
import { splitPoints } from './splits.js';
import { invariant } from './target.js';

export type HeadParser = (buf: Buffer, start: number, h: MessageHead) => number;

/** What an accepted head says, independent of where its bytes sit. */
export interface HeadRecord {
  startLine: string[];
  version: number;
  status: number;
  isHead: boolean;
  /** Per line: lower-cased name, value, dropped when forwarding. */
  fields: [string, string, number][];
  facts: (number | boolean | string | null)[];
}

const SP = 32;
const HTAB = 9;

/**
 * The value of line `i` by RFC 9110 5.5: the bytes after the colon without leading and
 * trailing SP/HTAB, and nothing else stripped (0xA0 and other obs-text are content).
 */
export function oracleValue(buf: Buffer, h: MessageHead, i: number): string {
  let vs = buf.indexOf(58, h.lineStart[i] as number) + 1;
  let ve = (h.lineEnd[i] as number) - 2;
  while (vs < ve && (buf[vs] === SP || buf[vs] === HTAB)) vs++;
  while (ve > vs && (buf[ve - 1] === SP || buf[ve - 1] === HTAB)) ve--;
  return buf.toString('latin1', vs, ve);
}

/** The record of the head `h` just parsed from `buf`; checks that `value()` keeps every value byte. */
export function headRecord(buf: Buffer, h: MessageHead, response: boolean): HeadRecord {
  const fields: [string, string, number][] = [];
  for (let i = 0; i < h.count; i++) {
    const ls = h.lineStart[i] as number;
    const value = oracleValue(buf, h, i);
    invariant(h.value(buf, i) === value, `MessageHead.value() of line ${i} is not its bytes less SP/HTAB`);
    fields.push([buf.toString('latin1', ls, buf.indexOf(58, ls)).toLowerCase(), value, h.drop[i] as number]);
  }
  const kept = fields.filter((f) => f[2] === 0).flatMap((f) => [f[0], f[1]]);
  invariant(JSON.stringify(headerFields(buf, h)) === JSON.stringify(kept), 'headerFields() is not the kept lines');
  const s = h.headStart;
  const startLine = response
    ? [buf.toString('latin1', s + 13, h.startLineEnd - 2)]
    : [buf.toString('latin1', h.methodStart, h.methodEnd), buf.toString('latin1', h.targetStart, h.targetEnd)];
  const facts = [h.contentLength, h.chunked, h.otherEncoding, h.connClose, h.connKeepAlive, h.connUpgrade, h.hostCount, h.dropCount,
    h.connTokens === null ? null : h.connTokens.join(','), h.upgradeLine, h.teLine, h.xfpLine, h.xffLines === null ? null : h.xffLines.join(','), h.hasRequestId, h.hostLine];
  return { startLine, version: h.version, status: h.status, isHead: h.isHead, fields, facts };
}

/** The head written out again in the plainest form: start line, `name: value` lines, CRLF. */
export function serialize(rec: HeadRecord, response: boolean): Buffer {
  const v = rec.version === 11 ? 'HTTP/1.1' : 'HTTP/1.0';
  const start = response ? `${v} ${String(rec.status).padStart(3, '0')} ${rec.startLine[0]}` : `${rec.startLine[0]} ${rec.startLine[1]} ${v}`;
  return Buffer.from(`${start}\r\n${rec.fields.map(([n, val]) => `${n}: ${val}\r\n`).join('')}\r\n`, 'latin1');
}

/** A parse verdict: the end offset (or INCOMPLETE/MALFORMED), the error, and the head if accepted. */
export function verdict(parse: HeadParser, buf: Buffer, h: MessageHead, response: boolean): string {
  const r = parse(buf, 0, h);
  if (r === INCOMPLETE) return 'incomplete';
  if (r === MALFORMED) return `malformed ${h.error}`;
  return `${r} ${JSON.stringify(headRecord(buf, h, response))}`;
}

export function freshHead(maxBytes: number, maxFields: number): MessageHead {
  const h = new MessageHead();
  h.maxBytes = maxBytes;
  h.maxFields = maxFields;
  return h;
}

/**
 * The verdict on `input` is the same however it arrived: after any one cut (the prefix first,
 * then the whole, on one MessageHead), and byte by byte for inputs short enough. A prefix is
 * either incomplete or already has the final verdict; once a verdict is given the connection
 * stops calling, so a prefix that is malformed where the whole is not (or with another status)
 * is the bug.
 */
export function checkSplits(parse: HeadParser, input: Buffer, maxBytes: number, maxFields: number, response: boolean): string {
  const full = verdict(parse, input, freshHead(maxBytes, maxFields), response);
  for (const p of splitPoints(input.length)) {
    const h = freshHead(maxBytes, maxFields);
    const part = verdict(parse, input.subarray(0, p), h, response);
    if (part === 'incomplete') {
      const again = verdict(parse, input, h, response);
      invariant(again === full, `fed as ${p} bytes then all: '${again.slice(0, 40)}', at once: '${full.slice(0, 40)}'`);
    } else invariant(part === full, `a ${p}-byte prefix got '${part.slice(0, 40)}', the whole '${full.slice(0, 40)}'`);
  }
  if (input.length <= 2048) {
    const h = freshHead(maxBytes, maxFields);
    let last = 'incomplete';
    for (let p = 1; p <= input.length && last === 'incomplete'; p++) last = verdict(parse, input.subarray(0, p), h, response);
    invariant(last === 'incomplete' ? full === 'incomplete' : last === full, `byte by byte: '${last.slice(0, 40)}', at once: '${full.slice(0, 40)}'`);
  }
  return full;
}

/** The head parsed at an offset (after a pipelined message) ends at the same place, shifted. */
export function checkOffset(parse: HeadParser, input: Buffer, maxBytes: number, maxFields: number): void {
  const lead = Buffer.from('\r\nX-Before: 1\r\n\r\n', 'latin1');
  const h0 = freshHead(maxBytes, maxFields);
  const a = parse(input, 0, h0);
  const h = freshHead(maxBytes, maxFields);
  const b = parse(Buffer.concat([lead, input]), lead.length, h);
  invariant(a < 0 ? b === a && h.error === h0.error : b === a + lead.length, `parsed at offset ${lead.length}: ${b}/${h.error}, at 0: ${a}/${h0.error}`);
}
