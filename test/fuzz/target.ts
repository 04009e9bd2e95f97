/**
 * The contract between a fuzz target and the runners (run.ts for `npm run fuzz`, fuzz.test.ts
 * for the short replay in `npm test`). A target is one module under targets/ whose default
 * export is a `FuzzTarget`; the runners find them by listing that folder, so adding a target
 * touches nothing else.
 *
 * Every input is bytes, so that a corpus entry and a crasher are plain files under
 * corpus/<name>/ that anyone can read, replay and keep.
 */
import type { Arbitrary } from 'fast-check';

export interface FuzzTarget {
  /** Also the corpus folder: test/fuzz/corpus/<name>/. */
  readonly name: string;
  /**
   * Inputs built from the format's own shape (valid ones and near misses). The runners mix
   * these with byte-level mutations of them and of the corpus files (mutate.ts).
   */
  readonly generate: Arbitrary<Buffer>;
  /** Tokens the mutator splices in: delimiters, keywords, lengths at their edges. */
  readonly dictionary?: readonly (string | Buffer)[];
  /**
   * One execution. Returns when every invariant holds; throws an `InvariantError` naming the
   * broken one otherwise. Any other throw is a crash of the code under test and fails too.
   * Synchronous on purpose: a hang then stops the worker's heartbeat, and the runner says so.
   */
  check(input: Buffer): void;
}

/** A broken invariant: not a crash of the code under test, a wrong answer from it. */
export class InvariantError extends Error {
  override readonly name = 'InvariantError';
}

/** Throws an `InvariantError` with `what` unless `ok`. */
export function invariant(ok: boolean, what: string): asserts ok {
  if (!ok) throw new InvariantError(what);
}
