import { pathToFileURL } from 'node:url';
import type { FuzzTarget } from './target.js';

/** The default export of a compiled target module, checked for shape. */
export async function loadTarget(modulePath: string): Promise<FuzzTarget> {
  const mod = (await import(pathToFileURL(modulePath).href)) as { default?: Partial<FuzzTarget> };
  const t = mod.default;
  if (t === undefined || typeof t.name !== 'string' || typeof t.check !== 'function' || t.generate === undefined) {
    throw new Error(`${modulePath}: the default export is not a FuzzTarget`);
  }
  return t as FuzzTarget;
}
