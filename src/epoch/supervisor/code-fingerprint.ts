/**
 * A fingerprint of the code an epoch would run: the installed package's compiled files, its
 * entry points, its native addon and its dependency tree. A reload is also a code upgrade, so
 * a warm standby whose fingerprint differs from the one on disk now is discarded and a fresh
 * epoch is spawned. Sizes and mtimes are enough (an install rewrites what it changes), and a
 * stat of every file costs about a millisecond for this package.
 */
import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** What is fingerprinted, relative to the package root: directories are walked. */
const PARTS = ['package.json', 'bin', 'dist/src', 'build/Release', 'node_modules/.package-lock.json'];

export function codeFingerprint(root: string): string {
  const hash = createHash('sha1');
  for (const part of PARTS) add(hash, root, part);
  return hash.digest('hex').slice(0, 16);
}

function add(hash: ReturnType<typeof createHash>, root: string, rel: string): void {
  let st;
  try {
    st = statSync(join(root, rel));
  } catch {
    hash.update(`${rel} -\n`);
    return;
  }
  if (!st.isDirectory()) {
    hash.update(`${rel} ${st.size} ${st.mtimeMs}\n`);
    return;
  }
  for (const name of readdirSync(join(root, rel)).sort()) add(hash, root, `${rel}/${name}`);
}
