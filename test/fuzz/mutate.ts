/**
 * Byte-level mutations in the manner of libFuzzer's mutators (flip, insert, erase, duplicate,
 * splice a dictionary token, truncate), as fast-check arbitraries so that a failing input
 * shrinks to fewer, smaller mutations of a simpler base.
 */
import fc, { type Arbitrary } from 'fast-check';

type Mutation =
  | { op: 'flip'; at: number; bit: number }
  | { op: 'set'; at: number; byte: number }
  | { op: 'erase'; at: number; len: number }
  | { op: 'duplicate'; at: number; len: number }
  | { op: 'insert'; at: number; token: Buffer }
  | { op: 'truncate'; at: number };

/** Offsets are drawn as a fraction of the input, so one mutation means the same on any length. */
const at = fc.integer({ min: 0, max: 0xffff });
const pos = (a: number, length: number): number => (length === 0 ? 0 : a % (length + 1));

/** Bytes that matter to most parsers here, used when the target gives no dictionary. */
const GENERIC_TOKENS = ['\r\n', '\n', '\r', ' ', ':', '\0', '\t', '0', '-1', '4294967296', '\xff'];

function mutation(tokens: Arbitrary<Buffer>): Arbitrary<Mutation> {
  return fc.oneof(
    fc.record({ op: fc.constant('flip' as const), at, bit: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ op: fc.constant('set' as const), at, byte: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ op: fc.constant('erase' as const), at, len: fc.integer({ min: 1, max: 64 }) }),
    fc.record({ op: fc.constant('duplicate' as const), at, len: fc.integer({ min: 1, max: 256 }) }),
    fc.record({ op: fc.constant('insert' as const), at, token: tokens }),
    fc.record({ op: fc.constant('truncate' as const), at }),
  );
}

function apply(input: Buffer, m: Mutation): Buffer {
  const p = pos(m.at, input.length);
  switch (m.op) {
    case 'flip':
    case 'set': {
      if (input.length === 0) return input;
      const out = Buffer.from(input);
      const i = p % input.length;
      out[i] = m.op === 'flip' ? (out[i] as number) ^ (1 << m.bit) : m.byte;
      return out;
    }
    case 'erase':
      return Buffer.concat([input.subarray(0, p), input.subarray(p + m.len)]);
    case 'duplicate':
      return Buffer.concat([input.subarray(0, p), input.subarray(p, p + m.len), input.subarray(p)]);
    case 'insert':
      return Buffer.concat([input.subarray(0, p), m.token, input.subarray(p)]);
    case 'truncate':
      return input.subarray(0, p);
  }
}

/** Up to `max` mutations of an input drawn from `base`. */
export function mutated(base: Arbitrary<Buffer>, dictionary: readonly (string | Buffer)[] = [], max = 4): Arbitrary<Buffer> {
  const words = [...GENERIC_TOKENS, ...dictionary].map((w) => (typeof w === 'string' ? Buffer.from(w, 'latin1') : w));
  const tokens = fc.oneof(fc.constantFrom(...words), fc.uint8Array({ minLength: 1, maxLength: 8 }).map((a) => Buffer.from(a)));
  return fc.tuple(base, fc.array(mutation(tokens), { minLength: 1, maxLength: max })).map(([input, ms]) => ms.reduce(apply, input));
}

/** Whole inputs for a target: its own generator, mutations of it, and mutations of the corpus. */
export function fuzzInputs(generate: Arbitrary<Buffer>, corpus: readonly Buffer[], dictionary?: readonly (string | Buffer)[]): Arbitrary<Buffer> {
  const bases = corpus.length > 0 ? fc.oneof(generate, fc.constantFrom(...corpus)) : generate;
  return fc.oneof({ arbitrary: generate, weight: 2 }, { arbitrary: mutated(bases, dictionary), weight: 3 });
}
