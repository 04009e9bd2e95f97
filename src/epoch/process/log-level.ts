/**
 * One epoch's log level, as the admin endpoint's `/logging` reads and sets it: the main
 * thread's logger and every worker thread's. It lives and dies with the epoch: the next one
 * starts at the supervisor's `--log-level`.
 */
import type { LogLevelControl } from '../../admin/types.js';
import type { LevelledLogger, LogLevel } from '../../log.js';
import type { WorkerPool } from './worker-pool.js';

export class EpochLogLevel implements LogLevelControl {
  constructor(
    private readonly log: LevelledLogger,
    private readonly workers: WorkerPool,
  ) {}

  get level(): LogLevel {
    return this.log.level;
  }

  set(level: LogLevel): void {
    this.log.level = level;
    this.workers.setLogLevel(level);
  }
}
