/**
 * The bodies of `status`, `reload`, `drain`, `stop` and `stats`, without oclif: each takes its
 * parsed flags and returns its `--json` document and its human lines, or throws a
 * ProxyctlError. The oclif command classes and the fast path (src/cli/fast-path.ts) both run
 * these, so a command behaves the same whichever way it was started. Nothing here may import
 * oclif, the config schema or the supervisor.
 */
import { resolve } from 'node:path';
import { parseDuration } from '../config/duration.js';
import { askSupervisor, connectSupervisor, request } from '../control/client.js';
import { ProxyctlError } from '../errors.js';
import type { ClusterView } from '../clusters/types.js';
import type { ReloadRequest, StatusRequest, TimelineEvent } from '../uds-rpc/index.js';
import type { CommandFlags } from './flag-spec.js';
import { showProgress, waitForDrain } from './follow.js';
import type { CommandResult } from './output.js';
import { commandPaths } from './paths.js';
import type { Progress } from './progress.js';
import { formatClusters } from './render-clusters.js';
import { formatReload, formatStatus, type StandbyStatus, type StatusWithStandby } from './render-control.js';

export interface StatusJson extends Omit<StatusWithStandby, 'standby'> {
  /** The warm standby epoch, or null (none, or a supervisor that predates standbys). */
  standby: StandbyStatus | null;
  /**
   * Only with `--clusters`: the serving epoch's clusters, or null (no epoch serves, it did not
   * answer in time, or the supervisor or epoch predates the question).
   */
  clusters?: ClusterView[] | null;
}

/** The command's own `--json` fields; output.ts puts them in the envelope (`ok`, `command`). */
export interface ReloadJson {
  epoch: number;
  pid: number;
  configPath: string;
  coalesced: boolean;
  timeline: TimelineEvent[];
}

export interface DrainJson {
  epoch: number;
  connections: number;
  /** Only with `--wait`: the connections still open when the wait ended (0: drained; null: the epoch did not say). */
  remaining?: number | null;
}

export interface StopJson {
  pid: number;
}

/** The supervisor enforces the real reload deadlines (ready timeout, hurry); this only guards against a hung supervisor. */
const RELOAD_TIMEOUT_MS = 5 * 60_000;

export async function runStatus(flags: CommandFlags<'status'>): Promise<CommandResult<StatusJson>> {
  // `clusters` only when asked: a supervisor that predates it then sees the request it knows.
  const message: StatusRequest = flags.clusters ? { type: 'status', clusters: true } : { type: 'status' };
  const reply: StatusWithStandby = await askSupervisor(commandPaths(flags), flags['base-id'], message, 10_000);
  const json: StatusJson = { supervisor: reply.supervisor, epochs: reply.epochs, standby: reply.standby ?? null };
  if (!flags.clusters) return { json, human: (paint) => formatStatus(json, paint) };
  const clusters = reply.clusters ?? null;
  json.clusters = clusters;
  return { json, human: (paint) => [...formatStatus(json, paint), '', ...formatClusters(clusters, paint)] };
}

/** `progress`: the terminal's progress line, or null (not a terminal, --json). */
export async function runReload(flags: CommandFlags<'reload'>, progress: Progress | null = null): Promise<CommandResult<ReloadJson>> {
  // `cold` only when asked for: a supervisor that predates standbys then sees the request it knows.
  const message: ReloadRequest & { cold?: boolean } = {
    type: 'reload',
    configPath: flags.config === undefined ? null : resolve(flags.config),
    testFault: process.env.PROXYCTL_TEST_FAULT ?? null,
    ...(flags.cold ? { cold: true } : {}),
  };
  const paths = commandPaths(flags);
  const asked = askSupervisor(paths, flags['base-id'], message, RELOAD_TIMEOUT_MS);
  const stopProgress = progress === null ? null : showProgress(paths, flags['base-id'], 'reloading', progress);
  const reply = await asked.finally(() => stopProgress?.());
  return {
    json: { epoch: reply.epoch, pid: reply.pid, configPath: reply.configPath, coalesced: reply.coalesced, timeline: reply.timeline },
    human: (paint) => formatReload(reply, paint),
  };
}

export async function runDrain(flags: CommandFlags<'drain'>, progress: Progress | null = null): Promise<CommandResult<DrainJson>> {
  const paths = commandPaths(flags);
  const reply = await askSupervisor(paths, flags['base-id'], { type: 'drainHost' }, 10_000);
  const first = `epoch ${reply.epoch} is out of rotation; ${reply.connections} connection(s) draining`;
  if (!flags.wait) return { json: { epoch: reply.epoch, connections: reply.connections }, human: [first] };
  const { remaining } = await waitForDrain(paths, flags['base-id'], reply.epoch, progress);
  const last = remaining === 0 ? `epoch ${reply.epoch} drained: no connection left` : `epoch ${reply.epoch}: ${remaining ?? 'an unknown number of'} connection(s) still open at the drain deadline`;
  return { json: { epoch: reply.epoch, connections: reply.connections, remaining }, human: [first, last] };
}

export async function runStop(flags: CommandFlags<'stop'>, progress: Progress | null = null): Promise<CommandResult<StopJson>> {
  const timeout = parseDuration(flags.timeout);
  if (!timeout.ok) throw new ProxyctlError('PROXYCTL_ERR_USAGE', `--timeout: ${timeout.message}`, { flag: 'timeout' });
  const deadline = Date.now() + timeout.ms;
  const conn = await connectSupervisor(commandPaths(flags), flags['base-id']);
  let pid: number;
  try {
    ({ pid } = await request(conn, { type: 'stop', now: flags.now }, 10_000));
  } finally {
    conn.close();
  }
  // Imported here, not at the top: shm/locks.js loads node:crypto, 7-8 ms (best of 10) that
  // status, reload and drain do not need.
  const { processIsAlive } = await import('../shm/locks.js');
  const stopProgress = progress === null ? null : showProgress(commandPaths(flags), flags['base-id'], 'stopping', progress);
  try {
    // The supervisor's pid stays ours to watch: nothing else can take it while it lives.
    while (processIsAlive(pid)) {
      if (Date.now() >= deadline) throw new ProxyctlError('PROXYCTL_ERR_STOP_TIMEOUT', `supervisor pid ${pid} still runs after ${flags.timeout}`, { pid });
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await stopProgress?.();
  }
  return { json: { pid }, human: [`proxyctl: stopped (supervisor pid ${pid})`] };
}
