import { parseConfig, readConfigText } from '../../config/load.js';
import { configReadsFiles } from '../../config/tls-files.js';
import type { LoadedConfig } from '../../config/types.js';

/** A config as one epoch gets it: the exact text (the epoch parses it with its own code), and our parse of it. */
export interface ConfigVersion {
  path: string;
  text: string;
  loaded: LoadedConfig;
}

/**
 * Reads and validates `path` in the supervisor, so that a bad file is answered at once and no
 * epoch is spawned for it. Throws PROXYCTL_ERR_CONFIG_READ or PROXYCTL_ERR_CONFIG_INVALID.
 * The same text at the same path as `previous` is not parsed again (a reload for new code, or
 * a storm of them): a warm parse still costs 2 to 4 ms on the 2-core dev VM. A config that
 * names certificate files is always parsed again: the files may have been renewed (or broken).
 */
export async function readConfigVersion(path: string, previous: ConfigVersion | null = null): Promise<ConfigVersion> {
  const text = await readConfigText(path);
  if (previous !== null && previous.path === path && previous.text === text && !configReadsFiles(previous.loaded.config)) return previous;
  return { path, text, loaded: parseConfig(text, path) };
}
