import { baseIdPaths, resolveRuntimeDir, type BaseIdPaths } from '../runtime-dir.js';

/** The runtime files of the base id chosen by `--base-id` and `--runtime-dir` (then the environment). */
export function commandPaths(flags: { 'base-id': number; 'runtime-dir'?: string | undefined }): BaseIdPaths {
  const runtimeDir = resolveRuntimeDir({ flag: flags['runtime-dir'], env: process.env, uid: process.getuid?.() ?? 0 });
  return baseIdPaths(runtimeDir, flags['base-id']);
}
