/**
 * Starting one epoch: spawn it from the code installed on disk now, then wait for each
 * milestone (hello, sockets handed over, ready) with a deadline. A step that fails or times
 * out kills the new process and throws; nothing else is touched, so the serving epoch serves on.
 */
import { execa } from 'execa';
import { ProxyctlError } from '../../errors.js';
import type { LineSink, Logger } from '../../log.js';
import type { TimelineEvent } from '../../uds-rpc/index.js';
import type { ConfigVersion } from './config-version.js';
import { Epoch, type EpochExit, type ReadyFacts } from './epoch.js';

export interface LaunchContext {
  /** bin/epoch.js of the installed package. */
  entry: string;
  socket: string;
  stats: string;
  baseId: number;
  log: Logger;
  logSink: LineSink;
}

export interface EpochPlan {
  number: number;
  config: ConfigVersion;
  /** PROXYCTL_TEST_FAULT for this epoch only, or null. */
  fault: string | null;
  onExit: (epoch: Epoch) => void;
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

  constructor(readonly startedAt = Date.now()) {}

  add(event: string, detail?: string, at = Date.now()): void {
    const e: TimelineEvent = { event, atMs: Math.max(0, at - this.startedAt) };
    if (detail !== undefined) e.detail = detail;
    this.events.push(e);
  }
}

export function spawnEpoch(ctx: LaunchContext, plan: EpochPlan): Epoch {
  const child = execa(process.execPath, [ctx.entry, '--socket', ctx.socket, '--stats', ctx.stats, '--epoch', String(plan.number), '--base-id', String(ctx.baseId)], {
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    // Lines are forwarded to the log as they come; buffering them would grow without bound.
    buffer: false,
    reject: false,
    // The fault hook reaches only the epoch it was asked for; an undefined value removes an inherited one.
    env: { PROXYCTL_TEST_FAULT: plan.fault ?? undefined },
  });
  return new Epoch(plan.number, plan.config, child, ctx.log, ctx.logSink, plan.onExit);
}

type StepName = 'hello' | 'sockets' | 'ready';

/**
 * Waits for `epoch` to say ready, recording each step. On failure the epoch is killed (and
 * reaped) before this throws PROXYCTL_ERR_READY_TIMEOUT, PROXYCTL_ERR_EPOCH_FAILED or the
 * refusal the RPC server recorded for it (`refusal()`, e.g. PROXYCTL_ERR_HOT_RESTART_VERSION).
 */
export async function awaitReady(epoch: Epoch, deadlines: ReadyDeadlines, timeline: Timeline, refusal: () => ProxyctlError | null): Promise<ReadyFacts> {
  timeline.add('spawned', `epoch ${epoch.number} pid ${epoch.pid}`, epoch.spawnedAt);
  try {
    await step(epoch, 'hello', epoch.hello.promise, epoch.spawnedAt + deadlines.helloMs, refusal);
    timeline.add('hello');
    const sockets = await step(epoch, 'sockets', epoch.socketsSent.promise, epoch.spawnedAt + deadlines.readyMs, refusal);
    timeline.add('sockets_received', `${sockets} sockets`);
    const facts = await step(epoch, 'ready', epoch.ready.promise, epoch.spawnedAt + deadlines.readyMs, refusal);
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

async function step<T>(epoch: Epoch, name: StepName, milestone: Promise<T>, deadline: number, refusal: () => ProxyctlError | null): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const ms = deadline - epoch.spawnedAt;
      reject(new ProxyctlError('PROXYCTL_ERR_READY_TIMEOUT', `epoch ${epoch.number} (pid ${epoch.pid}) reached no ${name} within ${ms} ms of its start; it was killed`, { epoch: epoch.number, pid: epoch.pid, step: name, deadlineMs: ms }));
    }, Math.max(0, deadline - Date.now()));
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
