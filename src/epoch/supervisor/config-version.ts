import { parseConfig, readConfigText } from '../../config/load.js';
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
 */
export async function readConfigVersion(path: string): Promise<ConfigVersion> {
  const text = await readConfigText(path);
  return { path, text, loaded: parseConfig(text, path) };
}
