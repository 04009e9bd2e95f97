/**
 * The per-route matchers beyond the path: headers, query parameters, methods. Compiled once per
 * table; each test reads the request through its accessors, so a route without such matchers
 * never makes the request produce a header or query string.
 */
import type { HeaderMatcherConfig, QueryParameterMatcherConfig } from '../../config/types-router.js';
import { ValueTest, type RouteRequest, type ValueMatcher } from './types.js';

export function compileHeader(h: HeaderMatcherConfig): ValueMatcher {
  if ('exact' in h) return { name: h.name, test: ValueTest.Exact, value: h.exact, regex: null, invert: h.invert };
  if ('prefix' in h) return { name: h.name, test: ValueTest.Prefix, value: h.prefix, regex: null, invert: h.invert };
  if ('suffix' in h) return { name: h.name, test: ValueTest.Suffix, value: h.suffix, regex: null, invert: h.invert };
  if ('regex' in h) return { name: h.name, test: ValueTest.Regex, value: '', regex: new RegExp(h.regex), invert: h.invert };
  return { name: h.name, test: ValueTest.Present, value: '', regex: null, invert: h.invert };
}

export function compileQuery(q: QueryParameterMatcherConfig): ValueMatcher {
  if ('exact' in q) return { name: q.name, test: ValueTest.Exact, value: q.exact, regex: null, invert: false };
  if ('regex' in q) return { name: q.name, test: ValueTest.Regex, value: '', regex: new RegExp(q.regex), invert: false };
  return { name: q.name, test: ValueTest.Present, value: '', regex: null, invert: false };
}

function valueMatches(m: ValueMatcher, v: string | undefined): boolean {
  if (v === undefined) return false;
  switch (m.test) {
    case ValueTest.Exact:
      return v === m.value;
    case ValueTest.Prefix:
      return v.startsWith(m.value);
    case ValueTest.Suffix:
      return v.endsWith(m.value);
    case ValueTest.Regex:
      return (m.regex as RegExp).test(v);
    case ValueTest.Present:
      return true;
  }
}

/** Every header matcher holds (after its `invert`). */
export function headersMatch(ms: readonly ValueMatcher[], req: RouteRequest): boolean {
  for (let i = 0; i < ms.length; i++) {
    const m = ms[i] as ValueMatcher;
    if (valueMatches(m, req.header(m.name)) === m.invert) return false;
  }
  return true;
}

export function queryMatches(ms: readonly ValueMatcher[], req: RouteRequest): boolean {
  for (let i = 0; i < ms.length; i++) {
    const m = ms[i] as ValueMatcher;
    if (!valueMatches(m, req.query(m.name))) return false;
  }
  return true;
}

/** `s` starts with `lowerPrefix`, ignoring ASCII case; the prefix is already lower case. */
export function startsWithIgnoreCase(s: string, lowerPrefix: string): boolean {
  const n = lowerPrefix.length;
  if (n > s.length) return false;
  for (let i = 0; i < n; i++) {
    let c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) c += 32;
    if (c !== lowerPrefix.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * The first value of query parameter `name` in an origin-form target, percent-decoded (kept
 * as sent when it does not decode); "" for a bare `?name`; undefined when absent. Names are
 * compared as sent, case-sensitively. `+` is not a space here: that is form encoding.
 */
export function queryParam(target: string, name: string): string | undefined {
  const q = target.indexOf('?');
  if (q < 0) return undefined;
  let i = q + 1;
  while (i <= target.length) {
    let amp = target.indexOf('&', i);
    if (amp < 0) amp = target.length;
    const eq = target.indexOf('=', i);
    const keyEnd = eq >= 0 && eq < amp ? eq : amp;
    if (keyEnd - i === name.length && target.startsWith(name, i)) {
      return keyEnd === amp ? '' : decode(target.slice(keyEnd + 1, amp));
    }
    i = amp + 1;
  }
  return undefined;
}

function decode(v: string): string {
  if (!v.includes('%')) return v;
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}
