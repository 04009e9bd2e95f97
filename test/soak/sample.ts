/**
 * One sample of the soak every 10 s: memory and file descriptors of the supervisor and of
 * each live epoch (from /proc), and what the clients and the churn have done so far.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { runCli } from '../fixtures/supervisor-util.js';

export interface ProcessUse {
  pid: number;
  rssKiB: number;
  fds: number;
}

export interface Sample {
  atMs: number;
  supervisor: ProcessUse | null;
  /** The active epoch, then the draining ones (the standby is not counted: it serves nothing). */
  epochs: (ProcessUse & { epoch: number; state: string })[];
  done: Record<Protocol, number>;
  failed: Record<Protocol, number>;
  reloads: number;
}

export type Protocol = 'http1' | 'http2' | 'tcp';

/** VmRSS and the number of open fds of `pid`; null if it is gone (it may exit while we read). */
export function processUse(pid: number): ProcessUse | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = /^VmRSS:\s+(\d+) kB/m.exec(status);
    return { pid, rssKiB: rss === null ? 0 : Number(rss[1]), fds: readdirSync(`/proc/${pid}/fd`).length };
  } catch {
    return null;
  }
}

interface StatusJson {
  epochs?: { epoch: number; pid: number; state: string }[];
  standby?: { pid: number } | null;
}

/** The live epochs as `proxyctl status --json` lists them, with their use; `seen` collects every pid. */
export async function epochUse(common: readonly string[], seen: Set<number>): Promise<Sample['epochs']> {
  const r = await runCli(['status', '--json', ...common]);
  const status = (r.json ?? {}) as StatusJson;
  const out: Sample['epochs'] = [];
  if (status.standby?.pid !== undefined) seen.add(status.standby.pid);
  for (const e of status.epochs ?? []) {
    seen.add(e.pid);
    const use = processUse(e.pid);
    if (use !== null) out.push({ ...use, epoch: e.epoch, state: e.state });
  }
  return out.sort((a, b) => (a.state === 'active' ? -1 : b.state === 'active' ? 1 : b.epoch - a.epoch));
}
