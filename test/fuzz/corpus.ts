/**
 * The corpus on disk: test/fuzz/corpus/<target>/<file>, one input per file, raw bytes. Seeds
 * are named for what they hold; crashers the fuzzer found are saved as crash-<sha1 prefix> and
 * stay as regression cases once fixed (fuzz.test.ts replays every file).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The source tree's corpus folder (these modules run from dist/test/fuzz/). */
export const CORPUS_DIR = fileURLToPath(new URL('../../../test/fuzz/corpus/', import.meta.url));
/** The compiled targets. */
export const TARGETS_DIR = fileURLToPath(new URL('./targets/', import.meta.url));

export interface CorpusEntry {
  file: string;
  bytes: Buffer;
}

export function readCorpus(target: string): CorpusEntry[] {
  const dir = join(CORPUS_DIR, target);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .sort()
    .map((file) => ({ file: join(dir, file), bytes: readFileSync(join(dir, file)) }));
}

/** Saves a failing input; returns its path. The same input twice is one file. */
export function saveCrasher(target: string, bytes: Buffer): string {
  const dir = join(CORPUS_DIR, target);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `crash-${createHash('sha1').update(bytes).digest('hex').slice(0, 12)}`);
  writeFileSync(file, bytes);
  return file;
}

/** The names of the compiled targets (targets/<name>.js). */
export function targetModules(): string[] {
  return readdirSync(TARGETS_DIR)
    .filter((f) => f.endsWith('.js'))
    .map((f) => join(TARGETS_DIR, f))
    .sort();
}
