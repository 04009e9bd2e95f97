/**
 * Starting one epoch: spawn it from the code installed on disk now, then wait for each
 * milestone (hello, sockets handed over, ready) with a deadline. A step that fails or times
 * out kills the new process and throws; nothing else is touched, so the serving epoch serves on.
 */
import { execa } from 'execa';
import { ProxyctlError } from '../../errors.js';
import type { LineSink, Logger, LogLevel } from '../../log.js';
import type { TimelineEvent } from '../../uds-rpc/index.js';
import type { ConfigVersion } from './config-version.js';
import { Epoch, type EpochExit, type ReadyFacts } from './epoch.js';
import { HURRY_GRACE_MS, MAX_LIVE_EPOCHS } from './limits.js';
import type { ReloadCheckpoint, ReloadStep } from './test-fault.js';

export interface LaunchContext {
  /** bin/epoch.js of the installed package. */
  entry: string;
  socket: string;
  stats: string;
  baseId: number;
  log: Logger;
  logSink: LineSink;
  /** `--log-level` of the epoch: the supervisor's. */
  logLevel: LogLevel;
}

export interface EpochPlan {
  number: number;
  /** The config it will run; a standby's is replaced when a reload takes it. */
  config: ConfigVersion;
  /** PROXYCTL_TEST_FAULT for this epoch only, or null. */
  fault: string | null;
  onExit: (epoch: Epoch) => void;
  /** Worker threads to start before the config is known. */
  workers: number;
  /** Spawn it as the warm standby (`--standby`). */
  standby: boolean;
  /** Run it this much nicer than the supervisor (0: not at all); see priority.ts. */
  niceIncrement: number;
  fingerprint: string;
}

export interface ReadyDeadlines {
  /** From spawn to hello: the process started and connected. */
  helloMs: number;
  /** From spawn to ready: config parsed, workers started, admin up. */
  readyMs: number;
}

/** Reload steps in ms since the request; events recorded from the epoch's clock are placed by their wall time. */
export class Timeline {
  readonly events: TimelineEvent[] = [];

  constructor(
    readonly startedAt = Date.now(),
    /** The supervisor test fault's hook (test-fault.ts); null: none. */
    private readonly checkpoint: ReloadCheckpoint | null = null,
  ) {}

  /** A reload step the supervisor test fault may be armed at; at once unless it is. */
  async reached(step: ReloadStep): Promise<void> {
    if (this.checkpoint !== null) await this.checkpoint(step);
  }

  add(event: string, detail?: string, at = Date.now()): void {
    const e: TimelineEvent = { event, atMs: Math.max(0, at - this.startedAt) };
    if (detail !== undefined) e.detail = detail;
    this.events.push(e);
  }
}

export function spawnEpoch(ctx: LaunchContext, plan: EpochPlan): Epoch {
  const args = [ctx.entry, '--socket', ctx.socket, '--stats', ctx.stats, '--epoch', String(plan.number), '--base-id', String(ctx.baseId), '--workers', String(plan.workers), '--log-level', ctx.logLevel];
  if (plan.standby) args.push('--standby');
  // nice(1) execs node, so the pid is the epoch's, and every thread it starts inherits the nice value.
  const [file, argv] = plan.niceIncrement > 0 ? ['nice', ['-n', String(plan.niceIncrement), process.execPath, ...args]] : [process.execPath, args];
  const child = execa(file, argv, {
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    // Lines are forwarded to the log as they come; buffering them would grow without bound.
    buffer: false,
    reject: false,
    // The fault hook reaches only the epoch it was asked for; an undefined value removes an inherited one.
    env: { PROXYCTL_TEST_FAULT: plan.fault ?? undefined },
  });
  return new Epoch(plan.number, plan.config, plan.fingerprint, plan.standby, child, ctx.log, ctx.logSink, plan.onExit);
}

type StepName = 'hello' | 'warm' | 'sockets' | 'ready';

/**
 * Waits for `epoch` to say ready, recording each step. A fresh epoch's deadlines count from
 * its spawn; a standby's (`since`: when the reload took it) from then, and its hello is long
 * done. On failure the epoch is killed (and reaped) before this throws
 * PROXYCTL_ERR_READY_TIMEOUT, PROXYCTL_ERR_EPOCH_FAILED or the refusal the RPC server recorded
 * for it (`refusal()`, e.g. PROXYCTL_ERR_HOT_RESTART_VERSION).
 */
export async function awaitReady(epoch: Epoch, deadlines: ReadyDeadlines, timeline: Timeline, refusal: () => ProxyctlError | null, since: number | null = null): Promise<ReadyFacts> {
  const from = since ?? epoch.spawnedAt;
  if (since === null) timeline.add('spawned', `epoch ${epoch.number} pid ${epoch.pid}`, epoch.spawnedAt);
  try {
    if (since === null) {
      await timeline.reached('spawned');
      await step(epoch, 'hello', epoch.hello.promise, from, deadlines.helloMs, refusal);
      timeline.add('hello');
      await timeline.reached('hello');
    }
    const sockets = await step(epoch, 'sockets', epoch.socketsSent.promise, from, deadlines.readyMs, refusal);
    timeline.add('sockets_received', `${sockets} sockets`);
    await timeline.reached('sockets');
    const facts = await step(epoch, 'ready', epoch.ready.promise, from, deadlines.readyMs, refusal);
    const workersReady = facts.steps.find((s) => s.event === 'workers_ready');
    timeline.add('workers_ready', `${facts.workers} workers`, workersReady?.at);
    timeline.add('ready');
    return facts;
  } catch (err: unknown) {
    epoch.kill('SIGKILL');
    await epoch.exited.promise;
    throw err;
  }
}

/** Waits for one milestone until `ms` after `from` (wall ms), or until the process is gone. */
export async function step<T>(epoch: Epoch, name: StepName, milestone: Promise<T>, from: number, ms: number, refusal: () => ProxyctlError | null): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new ProxyctlError('PROXYCTL_ERR_READY_TIMEOUT', `epoch ${epoch.number} (pid ${epoch.pid}) reached no ${name} within ${ms} ms; it was killed`, { epoch: epoch.number, pid: epoch.pid, step: name, deadlineMs: ms }));
    }, Math.max(0, from + ms - Date.now()));
  });
  const died = epoch.exited.promise.then((exit) => Promise.reject(refusal() ?? exitError(epoch, name, exit)));
  try {
    return await Promise.race([milestone, timeout, died]);
  } finally {
    clearTimeout(timer);
    // The losing `died` branch must not surface as an unhandled rejection later.
    died.catch(() => {});
  }
}

const EXIT_MEANINGS: Record<number, string> = {
  70: 'it crashed',
  78: 'it found the config invalid',
};

function exitError(epoch: Epoch, step: StepName, exit: EpochExit): ProxyctlError {
  if (exit.code === 75) {
    return new ProxyctlError('PROXYCTL_ERR_HOT_RESTART_VERSION', `epoch ${epoch.number} (pid ${epoch.pid}) speaks another hot-restart version and was refused; see the supervisor log for what differs`, { epoch: epoch.number, pid: epoch.pid, step, exitCode: exit.code });
  }
  const how = exit.signal !== null ? `was killed by ${exit.signal}` : `exited with code ${exit.code}${exit.code !== null && EXIT_MEANINGS[exit.code] ? ` (${EXIT_MEANINGS[exit.code]})` : ''}`;
  return new ProxyctlError('PROXYCTL_ERR_EPOCH_FAILED', `epoch ${epoch.number} (pid ${epoch.pid}) ${how} before ${step}; see the supervisor log`, { epoch: epoch.number, pid: epoch.pid, step, exitCode: exit.code, signal: exit.signal });
}

/**
 * Keeps the live epochs below MAX_LIVE_EPOCHS, counting the one about to start: the oldest
 * that is not `active` is hurried and waited for, until there is room.
 */
export async function makeRoom(live: () => Epoch[], active: Epoch | null, timeline: Timeline, log: Logger): Promise<void> {
  for (;;) {
    const epochs = live();
    if (epochs.length < MAX_LIVE_EPOCHS) return;
    const oldest = epochs.find((e) => e !== active) ?? epochs[0]!;
    log.info(`epoch ${oldest.number} hurried: a new epoch needs its place`, { epochPid: oldest.pid, graceMs: HURRY_GRACE_MS });
    timeline.add('hurried', `epoch ${oldest.number}`);
    await oldest.hurry(HURRY_GRACE_MS);
    await oldest.exitWithin(HURRY_GRACE_MS + 3_000);
  }
}
