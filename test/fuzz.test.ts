/**
 * The fuzz targets (test/fuzz/targets/) as part of `npm test`: each replays its whole corpus,
 * every crasher ever found included, and then runs a short fast-check pass with a fixed seed,
 * so a failure here is reproducible and never depends on the run. `npm run fuzz` runs them
 * longer with fresh seeds.
 */
import test from 'node:test';
import fc from 'fast-check';
import { readCorpus, targetModules } from './fuzz/corpus.js';
import { loadTarget } from './fuzz/load-target.js';
import { fuzzInputs } from './fuzz/mutate.js';

const SEED = 20261202;
const RUNS = 400;

for (const module of targetModules()) {
  const target = await loadTarget(module);
  test(`fuzz target ${target.name}: its corpus and ${RUNS} generated inputs keep every invariant`, { timeout: 60_000 }, (t) => {
    const corpus = readCorpus(target.name);
    for (const entry of corpus) {
      try {
        target.check(entry.bytes);
      } catch (err: unknown) {
        throw new Error(`corpus file ${entry.file} fails again`, { cause: err });
      }
    }
    fc.assert(
      fc.property(fuzzInputs(target.generate, corpus.map((e) => e.bytes), target.dictionary), (input) => target.check(input)),
      { seed: SEED, numRuns: RUNS },
    );
    t.diagnostic(`${corpus.length} corpus files`);
  });
}
