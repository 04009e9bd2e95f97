/**
 * CPU priority of epoch processes. A standby is started under `nice`, so that loading its code
 * takes only CPU time the serving epoch leaves over. When a reload takes it, every one of its
 * threads goes back to the supervisor's own nice value: Linux keeps a nice value per thread
 * (setpriority on a pid changes that one thread), hence the walk over /proc/<pid>/task.
 *
 * Raising the priority again needs root (CAP_SYS_NICE) or an RLIMIT_NICE that allows it. When
 * neither holds, standbys are started at normal priority instead: a standby that cannot be
 * brought back would serve traffic at nice 10 once a reload takes it.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/** How much lower than the supervisor a standby starts. 10 gives it about a tenth of a busy core's share. */
export const STANDBY_NICE_INCREMENT = 10;

/** Whether this process may give a standby back its priority (see the file comment). */
export function canRestorePriority(): boolean {
  if (process.getuid?.() === 0) return true;
  const own = getPriority();
  try {
    // "Max nice priority  <soft> <hard>": the lowest nice allowed is 20 - soft.
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max nice priority'));
    const soft = Number(line?.trim().split(/\s+/)[3]);
    return Number.isFinite(soft) && 20 - soft <= own;
  } catch {
    return false;
  }
}

/** Sets every thread of `pid` to `nice`; returns how many threads could not be set. */
export function setProcessPriority(pid: number, nice: number): number {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    tids = [String(pid)];
  }
  let failed = 0;
  for (const tid of tids) {
    try {
      setPriority(Number(tid), nice);
    } catch {
      failed++; // a thread that just ended, or no permission
    }
  }
  return failed;
}
