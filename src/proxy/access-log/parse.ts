/**
 * The access-log format language, parsed (no compiling here: config validation uses this on
 * its own). A format is literal text with command operators:
 *
 *   %NAME%            an operator without argument, such as %BYTES_SENT%
 *   %NAME(arg)%       with an argument: %REQ(USER-AGENT)%, %START_TIME(%Y-%m-%d)%
 *   %NAME(arg):N%     truncated to N characters (REQ and RESP only)
 *   %%                a literal "%"
 *
 * The argument ends at the first ")", so a time format cannot contain one. Anything else
 * after a "%" (a lowercase word, a lone "%", a missing closing "%") is an error, reported at
 * the offset of the "%" that starts it.
 */
import { compileStrftime } from './strftime.js';

export const OPERATORS = [
  'START_TIME',
  'REQ',
  'RESP',
  'PROTOCOL',
  'RESPONSE_CODE',
  'RESPONSE_FLAGS',
  'BYTES_RECEIVED',
  'BYTES_SENT',
  'DURATION',
  'UPSTREAM_HOST',
  'UPSTREAM_CLUSTER',
  'ROUTE_NAME',
  'DOWNSTREAM_REMOTE_ADDRESS',
  'DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT',
  'DOWNSTREAM_LOCAL_ADDRESS',
  'REQUESTED_SERVER_NAME',
  'CONNECTION_ID',
  'HOSTNAME',
] as const;
export type OperatorName = (typeof OPERATORS)[number];

/** Request pseudo-headers `%REQ(...)%` knows, by their upper-case spelling. */
export const PSEUDO_HEADERS = [':METHOD', ':PATH', ':AUTHORITY', ':SCHEME'] as const;
export type PseudoHeader = (typeof PSEUDO_HEADERS)[number];

export interface OperatorPart {
  readonly op: OperatorName;
  /** REQ/RESP: the header names to try in order (lower case, or a pseudo-header in upper case); START_TIME: the time format; else empty. */
  readonly names: readonly string[];
  readonly timeFormat: string | null;
  /** `:N` truncation, or null. */
  readonly maxLength: number | null;
  /** Offset in the format string of its opening "%". */
  readonly offset: number;
}

export type FormatPart = string | OperatorPart;

export interface FormatProblem {
  /** Offset in the format string of the "%" that starts the problem. */
  readonly offset: number;
  readonly message: string;
}

export type ParsedFormat = { ok: true; parts: FormatPart[] } | { ok: false; problems: FormatProblem[] };

const KNOWN = new Set<string>(OPERATORS);
const WITH_ARGUMENT = new Set<string>(['REQ', 'RESP']);
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const MAX_TRUNCATION = 1_000_000;

export function parseFormat(text: string): ParsedFormat {
  const parts: FormatPart[] = [];
  const problems: FormatProblem[] = [];
  let literal = '';
  let i = 0;
  while (i < text.length) {
    const pct = text.indexOf('%', i);
    if (pct < 0) {
      literal += text.slice(i);
      break;
    }
    literal += text.slice(i, pct);
    if (text[pct + 1] === '%') {
      literal += '%';
      i = pct + 2;
      continue;
    }
    const r = operatorAt(text, pct);
    if ('problem' in r) {
      problems.push(r.problem);
      // Skip past this "%" only: the rest may hold more operators, and more mistakes to report.
      i = r.resumeAt;
      continue;
    }
    if (literal !== '') parts.push(literal);
    literal = '';
    parts.push(r.part);
    i = r.end;
  }
  if (literal !== '') parts.push(literal);
  const newline = text.search(/[\r\n]/);
  if (newline >= 0) problems.push({ offset: newline, message: 'a format is one line: proxyctl ends each line itself' });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, parts };
}

type OperatorAt = { part: OperatorPart; end: number } | { problem: FormatProblem; resumeAt: number };

/** The operator whose opening "%" is at `at`. */
function operatorAt(text: string, at: number): OperatorAt {
  const fail = (message: string, resumeAt = at + 1): OperatorAt => ({ problem: { offset: at, message }, resumeAt });
  const name = /^[A-Z0-9_]*/.exec(text.slice(at + 1))![0];
  let j = at + 1 + name.length;
  if (name === '') return fail('unbalanced "%": an operator is %NAME% in capitals (write %% for a "%")');
  let arg: string | null = null;
  if (text[j] === '(') {
    const close = text.indexOf(')', j);
    if (close < 0) return fail(`%${name}(: the argument has no closing ")"`);
    arg = text.slice(j + 1, close);
    j = close + 1;
  }
  let maxLength: number | null = null;
  const trunc = /^:(\d+)/.exec(text.slice(j));
  if (trunc !== null) {
    maxLength = Number(trunc[1]);
    j += trunc[0].length;
  }
  if (text[j] !== '%') return fail(`unbalanced "%": %${name}${arg === null ? '' : '(...)'} needs a closing "%"`);
  const end = j + 1;
  if (!KNOWN.has(name)) return fail(`unknown operator %${name}%`, end);
  const op = name as OperatorName;
  if (maxLength !== null && (!WITH_ARGUMENT.has(op) || maxLength < 1 || maxLength > MAX_TRUNCATION)) {
    return fail(WITH_ARGUMENT.has(op) ? `%${op}(...):N%: N must be 1..${MAX_TRUNCATION}` : `%${op}% takes no ":N" truncation (only REQ and RESP do)`, end);
  }
  if (WITH_ARGUMENT.has(op)) {
    if (arg === null || arg === '') return fail(`%${op}(name)% needs a header name`, end);
    const names = arg.split('?');
    if (names.length > 2) return fail(`%${op}(a?b)% takes at most one alternative`, end);
    const out: string[] = [];
    for (const n of names) {
      if (n.startsWith(':')) {
        const pseudo = n.toUpperCase();
        if (op === 'RESP' || !(PSEUDO_HEADERS as readonly string[]).includes(pseudo)) {
          return fail(op === 'RESP' ? `%RESP(${n})%: responses have no pseudo-headers here` : `%REQ(${n})%: known pseudo-headers are ${PSEUDO_HEADERS.join(' ')}`, end);
        }
        out.push(pseudo);
      } else if (HEADER_NAME.test(n)) out.push(n.toLowerCase());
      else return fail(`%${op}(${n})%: "${n}" is not a header name`, end);
    }
    return { part: { op, names: out, timeFormat: null, maxLength, offset: at }, end };
  }
  if (op === 'START_TIME') {
    if (arg !== null) {
      const t = compileStrftime(arg);
      if (!t.ok) return { problem: { offset: at + '%START_TIME('.length + t.offset, message: t.message }, resumeAt: end };
    }
    return { part: { op, names: [], timeFormat: arg, maxLength: null, offset: at }, end };
  }
  if (arg !== null) return fail(`%${op}% takes no argument`, end);
  return { part: { op, names: [], timeFormat: null, maxLength: null, offset: at }, end };
}
