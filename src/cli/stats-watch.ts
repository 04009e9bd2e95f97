/**
 * `proxyctl stats --watch`: a snapshot every interval, rendered as per-second counter rates
 * (render-stats.ts). On a terminal the table is redrawn in place until Ctrl-C; otherwise each
 * interval appends plain lines, so a script can read them. `--count N` stops after N intervals.
 */
import type { StatsRegion, StatsSnapshot } from '../shm/index.js';
import { counterRates, watchLines, watchTable } from './render-stats.js';

export interface WatchOptions {
  intervalMs: number;
  /** Intervals to print; null: until SIGINT. */
  count: number | null;
  read: (region: StatsRegion) => StatsSnapshot;
  out: NodeJS.WriteStream;
}

/** ANSI: cursor home, clear the screen. Only ever written to a TTY. */
const REDRAW = '\x1b[H\x1b[2J';

/** Resolves with the number of intervals printed, once `count` is reached or on SIGINT. */
export function watchStats(region: StatsRegion, opts: WatchOptions): Promise<number> {
  return new Promise((resolve) => {
    let prev = opts.read(region);
    let prevAt = Date.now();
    let printed = 0;
    const finish = (): void => {
      clearInterval(timer);
      process.off('SIGINT', finish);
      resolve(printed);
    };
    const tick = (): void => {
      const next = opts.read(region);
      const now = Date.now();
      const rates = counterRates(prev, next, Math.max(1, now - prevAt) / 1000);
      const at = new Date(now);
      if (opts.out.isTTY) opts.out.write(`${REDRAW}${watchTable(at, rates, next).join('\n')}\n`);
      else {
        const lines = watchLines(at, rates);
        if (lines.length > 0) opts.out.write(`${lines.join('\n')}\n`);
      }
      prev = next;
      prevAt = now;
      if (++printed === opts.count) finish();
    };
    const timer = setInterval(tick, opts.intervalMs);
    process.on('SIGINT', finish);
  });
}
