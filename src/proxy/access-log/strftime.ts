/**
 * The strftime subset `%START_TIME(...)%` accepts, always in UTC:
 *
 *   %Y year (2026)    %m month 01-12   %d day 01-31     %H hour 00-23   %M minute   %S second
 *   %j day of year    %a Mon..Sun      %b Jan..Dec      %F = %Y-%m-%d   %T = %H:%M:%S
 *   %s seconds since the epoch         %z +0000         %Z UTC          %% a "%"
 *   %1f .. %9f the first 1 to 9 digits of the fraction of the second; %f is %6f. Start times
 *   have millisecond precision, so digits past the third are 0.
 *
 * A format is compiled once into pieces; rendering reuses the second-resolution text while
 * the second does not change, so a busy log formats a date once a second, not once a line.
 */

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

type SecondField = (d: Date) => string;

/** A literal, a field that changes at most once a second, or a fraction with `digits` digits. */
type Piece = { readonly text: string } | { readonly second: SecondField } | { readonly digits: number };

const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));

const FIELDS: Readonly<Record<string, SecondField>> = {
  Y: (d) => String(d.getUTCFullYear()).padStart(4, '0'),
  m: (d) => pad2(d.getUTCMonth() + 1),
  d: (d) => pad2(d.getUTCDate()),
  H: (d) => pad2(d.getUTCHours()),
  M: (d) => pad2(d.getUTCMinutes()),
  S: (d) => pad2(d.getUTCSeconds()),
  j: (d) => String(Math.floor((d.getTime() - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86_400_000) + 1).padStart(3, '0'),
  a: (d) => DAYS[d.getUTCDay()]!,
  b: (d) => MONTHS[d.getUTCMonth()]!,
  s: (d) => String(Math.floor(d.getTime() / 1000)),
};

const EXPANSIONS: Readonly<Record<string, string>> = { F: '%Y-%m-%d', T: '%H:%M:%S' };
const LITERALS: Readonly<Record<string, string>> = { z: '+0000', Z: 'UTC', '%': '%' };

export type StrftimeResult = { ok: true; render: (ms: number) => string } | { ok: false; offset: number; message: string };

/** Compiles `format`; an error gives the offset (in `format`) of the conversion it cannot do. */
export function compileStrftime(format: string): StrftimeResult {
  const pieces: Piece[] = [];
  const literal = (text: string): void => {
    const last = pieces[pieces.length - 1];
    if (last !== undefined && 'text' in last) pieces[pieces.length - 1] = { text: last.text + text };
    else pieces.push({ text });
  };
  const walk = (fmt: string, base: number): { offset: number; message: string } | null => {
    for (let i = 0; i < fmt.length; i++) {
      const c = fmt[i]!;
      if (c !== '%') {
        literal(c);
        continue;
      }
      const next = fmt[i + 1];
      if (next === undefined) return { offset: base + i, message: 'a "%" at the end of a time format needs a conversion letter (write %% for a "%")' };
      const digit = /[1-9]/.test(next) && fmt[i + 2] === 'f';
      if (digit || next === 'f') {
        pieces.push({ digits: digit ? Number(next) : 6 });
        i += digit ? 2 : 1;
      } else if (FIELDS[next] !== undefined) {
        pieces.push({ second: FIELDS[next] });
        i++;
      } else if (EXPANSIONS[next] !== undefined) {
        walk(EXPANSIONS[next], base + i);
        i++;
      } else if (LITERALS[next] !== undefined) {
        literal(LITERALS[next]);
        i++;
      } else {
        return { offset: base + i, message: `unsupported time conversion "%${next}" (supported: %Y %m %d %H %M %S %j %a %b %F %T %s %z %Z %f %1f..%9f %%)` };
      }
    }
    return null;
  };
  const err = walk(format, 0);
  if (err !== null) return { ok: false, ...err };
  return { ok: true, render: renderer(pieces) };
}

function renderer(pieces: readonly Piece[]): (ms: number) => string {
  const hasFraction = pieces.some((p) => 'digits' in p);
  let cachedSecond = NaN;
  let cachedMs = NaN;
  let cachedOut = '';
  // The text of every piece for `cachedSecond`; fraction pieces are filled in per call.
  const texts: string[] = pieces.map((p) => ('text' in p ? p.text : ''));
  return (ms: number): string => {
    if (ms === cachedMs) return cachedOut;
    const second = Math.floor(ms / 1000);
    if (second !== cachedSecond) {
      const d = new Date(second * 1000);
      pieces.forEach((p, i) => {
        if ('second' in p) texts[i] = p.second(d);
      });
      cachedSecond = second;
    }
    if (hasFraction) {
      const millis = String(ms - second * 1000).padStart(3, '0');
      pieces.forEach((p, i) => {
        if ('digits' in p) texts[i] = p.digits <= 3 ? millis.slice(0, p.digits) : millis.padEnd(p.digits, '0');
      });
    }
    cachedMs = ms;
    cachedOut = texts.join('');
    return cachedOut;
  };
}
