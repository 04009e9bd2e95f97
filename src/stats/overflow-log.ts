/**
 * What a serving process does with a stat the full stats region refused (OpenOptions `onFull`
 * in src/shm/region.ts): the stat lives on in the process's own memory, the region counts the
 * refusal in `stats.overflow`, and this says so in the log, with PROXYCTL_ERR_SHM_FULL as the
 * error's code. A new listener brings a few dozen stats and every worker thread asks for each,
 * so only a process's first refusal is a warning; the rest go out at debug.
 */
import type { ProxyctlError } from '../errors.js';
import type { Logger } from '../log.js';

export function overflowLogger(log: Logger): (err: ProxyctlError) => void {
  let refused = 0;
  return (err) => {
    refused++;
    const fields = { error: err, stat: err.details.name, lacking: err.details.lacking, refusedHere: refused };
    if (refused === 1) log.warn('stats region full: new stats are kept in this process only, not in proxyctl stats (counted in stats.overflow); start with a larger --stats-capacity', fields);
    else log.debug('stats region full: stat kept in this process only', fields);
  };
}
