/*
 * How bench/reload.sh reloads each target and decides that the reload is done ("ready").
 * One Reloader per target; each reload() triggers one reload the way an operator would and
 * returns when the new generation of workers serves (or with the reason it did not).
 *
 * What "ready" means, per target (reload.sh prints the same definitions under its tables):
 *  - proxyctl: `proxyctl reload --json` blocks until the new epoch is ready, so ready = the
 *    command's wall time. The `ready` event's atMs from its timeline is kept too: that is
 *    proxyctl's own clock and leaves out the CLI's Node start-up.
 *  - nginx: from starting `nginx -s reload` until the master has a child that was not there
 *    before and whose title is "nginx: worker process". nginx sets that title after the
 *    worker's init, right before it enters its event loop; old workers turn into
 *    "nginx: worker process is shutting down". The master's children come from
 *    /proc/<master>/task/<master>/children, polled every POLL_MS.
 *  - haproxy: from sending `reload` on the master CLI (-S socket) until `show proc` lists a
 *    PID under "# workers" that was not there before. The 2.6 master re-executes itself,
 *    loads the config, takes the listeners over (-x sockpair@N) and forks the worker; the
 *    master CLI refuses connections while it re-executes, so failed polls are retried.
 * "Old workers gone" (only with trackOld): from the same start until no pre-reload worker is
 * left (nginx: none is a child of the master any more; haproxy: none is in `show proc`).
 * "Fork" (nginx/haproxy): from the same start until a new child of the master first shows up
 * in /proc, a lower bound for ready. For HAProxy it came 20-30 ms before `show proc` listed
 * the worker in an ad-hoc check: the master answers its CLI only after it has set up the new
 * worker, so part of the HAProxy figure is the master catching up, not the worker starting.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';

/** How often readiness is polled. Small enough to resolve ~10 ms reloads, cheap enough under load. */
const POLL_MS = 2;
/** A reload that has not produced a serving worker by then counts as failed. */
const READY_TIMEOUT_MS = 15_000;
const OLD_GONE_TIMEOUT_MS = 10_000;

/** One reload, as one line of the JSONL logs reload.sh keeps. Times in ms, rounded to 0.1. */
export interface ReloadRecord {
  /** 1-based number of the reload in its loop. */
  i: number;
  /** When it was triggered, in seconds since the loop started. */
  atS: number;
  ok: boolean;
  /** Duration of the reload command itself (see the file comment for what it covers). */
  cmdMs: number;
  /** Command start until the new generation serves; null when it did not. */
  readyMs: number | null;
  /** proxyctl only: the `ready` event's atMs from the reload timeline. */
  readyAtMs?: number | null;
  /** proxyctl only: the new epoch's number. */
  epoch?: number | null;
  /** nginx/haproxy: the new worker's PID. */
  newPid?: number | null;
  /** nginx/haproxy: command start until the new worker process first shows up as a child of the master (a lower bound for ready). */
  forkMs?: number | null;
  /** Command start until every pre-reload worker has exited (only when asked for). */
  oldGoneMs?: number | null;
  error?: string;
}

export type ReloadOutcome = Omit<ReloadRecord, 'i' | 'atS'>;

export interface Reloader {
  reload(trackOld: boolean): Promise<ReloadOutcome>;
}

const ms = (x: number): number => Math.round(x * 10) / 10;

/** Calls probe every POLL_MS until it returns a value or the deadline passes. */
async function pollUntil<T>(probe: () => T | undefined | Promise<T | undefined>, deadline: number): Promise<T | undefined> {
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (performance.now() > deadline) return undefined;
    await sleep(POLL_MS);
  }
}

// ------------------------------------------------------------------------------ proxyctl ----

interface ProxyctlReply {
  ok?: unknown;
  epoch?: unknown;
  timeline?: unknown;
  error?: { code?: unknown; message?: unknown };
}

/** The JSON document a --json command printed, or null. oclif may pretty-print it over lines. */
function parseReply(text: string): ProxyctlReply | null {
  const start = text.indexOf('{');
  if (start < 0) return null;
  try {
    const doc: unknown = JSON.parse(text.slice(start));
    return typeof doc === 'object' && doc !== null ? (doc as ProxyctlReply) : null;
  } catch {
    return null;
  }
}

function readyAt(reply: ProxyctlReply | null): number | null {
  if (reply === null || !Array.isArray(reply.timeline)) return null;
  for (const e of reply.timeline as unknown[]) {
    if (typeof e === 'object' && e !== null && (e as { event?: unknown }).event === 'ready') {
      const at = (e as { atMs?: unknown }).atMs;
      return typeof at === 'number' ? at : null;
    }
  }
  return null;
}

export class ProxyctlReloader implements Reloader {
  constructor(
    private readonly cli: string,
    private readonly baseId: string,
    private readonly runtimeDir: string,
  ) {}

  async reload(): Promise<ReloadOutcome> {
    const t0 = performance.now();
    const r = await execa(process.execPath, [this.cli, 'reload', '--json', '--base-id', this.baseId, '--runtime-dir', this.runtimeDir], {
      reject: false,
      timeout: 120_000,
      stdin: 'ignore',
    });
    const cmdMs = ms(performance.now() - t0);
    const reply = parseReply(r.stdout) ?? parseReply(r.stderr);
    const ok = r.exitCode === 0 && reply?.ok === true;
    const out: ReloadOutcome = {
      ok,
      cmdMs,
      readyMs: ok ? cmdMs : null,
      readyAtMs: readyAt(reply),
      epoch: typeof reply?.epoch === 'number' ? reply.epoch : null,
    };
    if (!ok) {
      const code = reply?.error?.code ?? '-';
      const message = reply?.error?.message ?? (r.stderr.trim() || r.stdout.trim()).slice(0, 300);
      out.error = `exit ${r.exitCode ?? (r.timedOut ? 'timeout' : r.signal)}: ${String(code)}: ${String(message)}`;
    }
    return out;
  }
}

// --------------------------------------------------------------------------------- nginx ----

/** The live children of pid: /proc/PID/task/PID/children, or a scan of /proc where the kernel lacks it. */
function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch (err: unknown) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || !existsSync(`/proc/${pid}`)) return [];
    return readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .map(Number)
      .filter((p) => parentOf(p) === pid);
  }
}

function parentOf(pid: number): number | null {
  try {
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ")".
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return f[0] === 'Z' ? null : Number(f[1]);
  } catch {
    return null;
  }
}

function procTitle(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').replace(/\0/g, ' ').trim();
  } catch {
    return '';
  }
}

/** Notes when a child the master did not have before first shows up in /proc (the fork). */
class ForkWatch {
  atMs: number | null = null;
  constructor(
    private readonly master: number,
    private readonly old: Set<number>,
    private readonly t0: number,
  ) {}

  poll(): number[] {
    const kids = childPids(this.master);
    if (this.atMs === null && kids.some((p) => !this.old.has(p))) this.atMs = ms(performance.now() - this.t0);
    return kids;
  }
}

export class NginxReloader implements Reloader {
  constructor(
    private readonly prefix: string,
    private readonly conf: string,
    private readonly master: number,
  ) {}

  async reload(trackOld: boolean): Promise<ReloadOutcome> {
    const old = new Set(childPids(this.master));
    const t0 = performance.now();
    const r = await execa('nginx', ['-q', '-p', `${this.prefix}/`, '-c', this.conf, '-s', 'reload'], { reject: false, timeout: 30_000, stdin: 'ignore' });
    const cmdMs = ms(performance.now() - t0);
    if (r.exitCode !== 0) return { ok: false, cmdMs, readyMs: null, error: `nginx -s reload exited ${r.exitCode}: ${r.stderr.trim()}` };
    const fork = new ForkWatch(this.master, old, t0);
    const newPid = await pollUntil(() => {
      const kids = fork.poll();
      return kids.find((p) => !old.has(p) && procTitle(p) === 'nginx: worker process');
    }, t0 + READY_TIMEOUT_MS);
    const readyMs = newPid === undefined ? null : ms(performance.now() - t0);
    const out: ReloadOutcome = { ok: newPid !== undefined, cmdMs, readyMs, newPid: newPid ?? null, forkMs: fork.atMs };
    if (newPid === undefined) out.error = `no new "nginx: worker process" within ${READY_TIMEOUT_MS} ms`;
    if (trackOld) {
      const gone = await pollUntil(() => (childPids(this.master).some((p) => old.has(p)) ? undefined : true), t0 + OLD_GONE_TIMEOUT_MS);
      out.oldGoneMs = gone === undefined ? null : ms(performance.now() - t0);
    }
    return out;
  }
}

// ------------------------------------------------------------------------------- haproxy ----

/** Sends one command to HAProxy's master CLI and returns the answer (the master closes after it). */
export function masterCli(sock: string, command: string, timeoutMs = 3_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(sock);
    let text = '';
    const timer = setTimeout(() => s.destroy(new Error(`master CLI: no answer to "${command}" within ${timeoutMs} ms`)), timeoutMs);
    // Half-close after the command: without it the 2.6 master CLI keeps the connection open.
    s.on('connect', () => s.end(`${command}\n`));
    s.on('data', (d: Buffer) => (text += d.toString('utf8')));
    s.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    s.on('close', (hadError) => {
      clearTimeout(timer);
      if (!hadError) resolve(text);
    });
  });
}

export interface ShowProc {
  workers: number[];
  oldWorkers: number[];
}

/** Parses `show proc` (2.6): a master line, then "# workers", "# old workers", "# programs" sections. */
export function parseShowProc(text: string): ShowProc {
  const out: ShowProc = { workers: [], oldWorkers: [] };
  let section = 'master';
  for (const line of text.split('\n')) {
    if (line.startsWith('#<')) continue;
    if (line.startsWith('# ')) {
      section = line.slice(2).trim();
      continue;
    }
    const m = /^(\d+)\s+worker\b/.exec(line);
    if (m === null) continue;
    if (section === 'workers') out.workers.push(Number(m[1]));
    else if (section === 'old workers') out.oldWorkers.push(Number(m[1]));
  }
  return out;
}

async function showProc(sock: string): Promise<ShowProc | undefined> {
  try {
    const text = await masterCli(sock, 'show proc');
    return text.includes('# workers') ? parseShowProc(text) : undefined;
  } catch {
    return undefined; // refused while the master re-executes: poll again
  }
}

export class HaproxyReloader implements Reloader {
  /** master: the -W master's PID (it keeps it across its re-exec), to see the fork in /proc. */
  constructor(
    private readonly sock: string,
    private readonly master: number,
  ) {}

  async reload(trackOld: boolean): Promise<ReloadOutcome> {
    // The master may still be re-executing after the previous reload: wait until it answers.
    const before = await pollUntil(() => showProc(this.sock), performance.now() + READY_TIMEOUT_MS);
    if (before === undefined) return { ok: false, cmdMs: 0, readyMs: null, error: 'master CLI did not answer "show proc"' };
    const old = new Set([...before.workers, ...before.oldWorkers]);
    const t0 = performance.now();
    const fork = new ForkWatch(this.master, new Set(childPids(this.master)), t0);
    try {
      await masterCli(this.sock, 'reload');
    } catch (err: unknown) {
      return { ok: false, cmdMs: ms(performance.now() - t0), readyMs: null, error: `master CLI reload: ${err instanceof Error ? err.message : String(err)}` };
    }
    const cmdMs = ms(performance.now() - t0);
    const newPid = await pollUntil(async () => {
      fork.poll();
      return (await showProc(this.sock))?.workers.find((p) => !old.has(p));
    }, t0 + READY_TIMEOUT_MS);
    const readyMs = newPid === undefined ? null : ms(performance.now() - t0);
    const out: ReloadOutcome = { ok: newPid !== undefined, cmdMs, readyMs, newPid: newPid ?? null, forkMs: fork.atMs };
    if (newPid === undefined) out.error = `no new worker in "show proc" within ${READY_TIMEOUT_MS} ms`;
    if (trackOld) {
      const gone = await pollUntil(async () => {
        const p = await showProc(this.sock);
        return p !== undefined && ![...p.workers, ...p.oldWorkers].some((w) => old.has(w)) ? true : undefined;
      }, t0 + OLD_GONE_TIMEOUT_MS);
      out.oldGoneMs = gone === undefined ? null : ms(performance.now() - t0);
    }
    return out;
  }
}
