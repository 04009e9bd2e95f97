/** Human output of `proxyctl status` and `proxyctl reload`. */
import type { EpochSummary, ReloadReply, StatusReply, TimelineEvent } from '../uds-rpc/index.js';
import { PLAIN, stateTone, type Paint } from './paint.js';

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

/** The state column: the only one coloured, after padding so escapes do not count as width. */
const STATE_COLUMN = 2;

function row(cols: readonly string[], paint: Paint = PLAIN): string {
  const line = cols.map((c, i) => c.padEnd(WIDTHS[i]!)).join('').trimEnd();
  if (paint === PLAIN) return line;
  const start = WIDTHS.slice(0, STATE_COLUMN).reduce((a, b) => a + b, 0);
  const state = cols[STATE_COLUMN]!;
  return line.slice(0, start) + paint.tone(stateTone(state), state) + line.slice(start + state.length);
}

/** `45s`, `3m7s`, `2h5m`. */
export function formatUptime(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60}s`;
  return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
}

function epochRow(e: EpochSummary, paint: Paint): string {
  return row([String(e.epoch), String(e.pid), e.state, formatUptime(e.uptimeMs), e.connections === null ? '?' : String(e.connections), String(e.workers)], paint);
}

/** A standby serves nothing yet: no connections, and its workers are not counted. */
function standbyRow(s: StandbyStatus, paint: Paint): string {
  return row([String(s.epoch), String(s.pid), s.state === 'warm' ? 'standby' : 'loading', formatUptime(s.uptimeMs), '-', '-'], paint);
}

export function formatStatus(s: StatusWithStandby, paint: Paint = PLAIN): string[] {
  const { supervisor } = s;
  const lines = [
    `supervisor pid ${supervisor.pid}, base id ${supervisor.baseId}, up ${formatUptime(supervisor.uptimeMs)}${supervisor.reloading ? ', reloading' : ''}`,
    `config ${supervisor.configPath}`,
    paint.header(row(['EPOCH', 'PID', 'STATE', 'UPTIME', 'CONNECTIONS', 'WORKERS'])),
    ...s.epochs.map((e) => epochRow(e, paint)),
  ];
  if (s.standby) lines.push(standbyRow(s.standby, paint));
  else lines.push('standby: none');
  return lines;
}

/** One timeline step; `last`: its time is the reload's total. */
function timelineLine(e: TimelineEvent, last: boolean, paint: Paint): string {
  const time = `${String(e.atMs).padStart(7)} ms`;
  const detail = e.detail ?? '';
  const name = detail === '' ? e.event : e.event.padEnd(20);
  return `${last ? paint.total(time) : time}  ${paint.step(name)}${detail}`.trimEnd();
}

export function formatReload(r: Omit<ReloadReply, 'type'>, paint: Paint = PLAIN): string[] {
  const steps = r.timeline.map((e, i) => timelineLine(e, i === r.timeline.length - 1, paint));
  return [`epoch ${r.epoch} is active (pid ${r.pid}${r.coalesced ? ', coalesced with other reload requests' : ''})`, ...steps];
}
