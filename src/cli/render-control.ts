/** Human output of `proxyctl status` and `proxyctl reload`. */
import type { EpochSummary, ReloadReply, StatusReply, TimelineEvent } from '../uds-rpc/index.js';

/**
 * The warm standby epoch as `status` reports it: a next epoch spawned ahead of a reload,
 * `loading` until it is ready to take one, then `warm`. A supervisor that predates standbys
 * sends no `standby` field at all.
 */
export interface StandbyStatus {
  epoch: number;
  pid: number;
  uptimeMs: number;
  state: 'loading' | 'warm';
}

/** What `status` receives, whether or not the supervisor knows about standbys. */
export type StatusWithStandby = Omit<StatusReply, 'type' | 'standby'> & { standby?: StandbyStatus | null | undefined };

const WIDTHS = [6, 8, 10, 9, 12, 7];

function row(cols: readonly string[]): string {
  return cols.map((c, i) => c.padEnd(WIDTHS[i]!)).join('').trimEnd();
}

/** `45s`, `3m7s`, `2h5m`. */
export function formatUptime(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60}s`;
  return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
}

function epochRow(e: EpochSummary): string {
  return row([String(e.epoch), String(e.pid), e.state, formatUptime(e.uptimeMs), e.connections === null ? '?' : String(e.connections), String(e.workers)]);
}

/** A standby serves nothing yet: no connections, and its workers are not counted. */
function standbyRow(s: StandbyStatus): string {
  return row([String(s.epoch), String(s.pid), s.state === 'warm' ? 'standby' : 'loading', formatUptime(s.uptimeMs), '-', '-']);
}

export function formatStatus(s: StatusWithStandby): string[] {
  const { supervisor } = s;
  const lines = [
    `supervisor pid ${supervisor.pid}, base id ${supervisor.baseId}, up ${formatUptime(supervisor.uptimeMs)}${supervisor.reloading ? ', reloading' : ''}`,
    `config ${supervisor.configPath}`,
    row(['EPOCH', 'PID', 'STATE', 'UPTIME', 'CONNECTIONS', 'WORKERS']),
    ...s.epochs.map(epochRow),
  ];
  if (s.standby) lines.push(standbyRow(s.standby));
  else lines.push('standby: none');
  return lines;
}

function timelineLine(e: TimelineEvent): string {
  return `${String(e.atMs).padStart(7)} ms  ${e.event.padEnd(20)}${e.detail ?? ''}`.trimEnd();
}

export function formatReload(r: Omit<ReloadReply, 'type'>): string[] {
  return [`epoch ${r.epoch} is active (pid ${r.pid}${r.coalesced ? ', coalesced with other reload requests' : ''})`, ...r.timeline.map(timelineLine)];
}
