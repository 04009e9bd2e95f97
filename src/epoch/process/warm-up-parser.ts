/**
 * The first parse in a process is slow: yaml and zod build their parsers then (zod compiles
 * each schema on first use). A standby parses the bundled config a few times, so the parse of
 * the real config on a reload is a warm one (26 ms cold, 1.7 ms warm on the 2-core dev VM).
 */
import { join } from 'node:path';
import { parseConfig, readConfigText } from '../../config/index.js';
import type { Logger } from '../../log.js';
import { PACKAGE_ROOT } from '../../package-root.js';

/** Parses of the bundled config a standby makes to warm the parser. */
const WARM_UP_PARSES = 5;

export async function warmUpConfigParser(log: Logger): Promise<void> {
  try {
    // Then a parse of another config, on the dev VM: after 1 warm-up 3.4 ms; after 5, 1.7 ms
    // for 29 ms of CPU; after 10 or 20, 5 to 9 ms (V8 is busy optimizing just then); after
    // 40, 1.0 ms for 151 ms of CPU, which a storm of reloads pays once per reload. Five it is.
    const path = join(PACKAGE_ROOT, 'config/default.yaml');
    const text = await readConfigText(path);
    for (let i = 0; i < WARM_UP_PARSES; i++) parseConfig(text, path);
  } catch (err: unknown) {
    log.warn('could not warm up the config parser', { error: err });
  }
}
