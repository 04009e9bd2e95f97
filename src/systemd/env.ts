/**
 * What systemd tells the service it started, through the environment (sd_notify(3),
 * sd_listen_fds(3), sd_watchdog_enabled(3)). It is taken once, by the supervisor, and removed
 * from the environment at once, before anything is spawned: an epoch must never talk to
 * systemd (NotifyAccess=main would drop it, and it would look like the service) nor think the
 * supervisor's sockets were passed to it.
 */
import { ProxyctlError } from '../errors.js';

/** The first fd systemd passes (SD_LISTEN_FDS_START). */
const LISTEN_FDS_START = 3;

export interface SystemdEnv {
  /** $NOTIFY_SOCKET: a path, or '@name' in the abstract namespace; null when not under a Type=notify unit. */
  notifySocket: string | null;
  /** $WATCHDOG_USEC when the watchdog is meant for this process ($WATCHDOG_PID unset or ours), else null. */
  watchdogUsec: number | null;
  /** The passed sockets ($LISTEN_FDS, when $LISTEN_PID is ours): fd and name ($LISTEN_FDNAMES) of each. */
  listenFds: PassedFd[];
}

export interface PassedFd {
  fd: number;
  name: string;
}

const VARIABLES = ['NOTIFY_SOCKET', 'WATCHDOG_USEC', 'WATCHDOG_PID', 'LISTEN_PID', 'LISTEN_FDS', 'LISTEN_FDNAMES'] as const;

/**
 * Reads the variables and deletes them from `env`. Throws PROXYCTL_ERR_SOCKET_ACTIVATION when
 * LISTEN_PID is ours but LISTEN_FDS is not a positive count.
 */
export function takeSystemdEnv(env: NodeJS.ProcessEnv, pid: number): SystemdEnv {
  const v: Partial<Record<(typeof VARIABLES)[number], string>> = {};
  for (const name of VARIABLES) {
    const value = env[name];
    if (value !== undefined && value !== '') v[name] = value;
    delete env[name];
  }
  const watchdogUsec = v.WATCHDOG_USEC === undefined ? null : positiveInteger(v.WATCHDOG_USEC);
  const forUs = (p: string | undefined): boolean => p === undefined || positiveInteger(p) === pid;
  return {
    notifySocket: v.NOTIFY_SOCKET ?? null,
    watchdogUsec: watchdogUsec !== null && forUs(v.WATCHDOG_PID) ? watchdogUsec : null,
    // Without LISTEN_PID the fds are not known to be meant for this process (sd_listen_fds ignores them too).
    listenFds: v.LISTEN_PID !== undefined && forUs(v.LISTEN_PID) ? passedFds(v.LISTEN_FDS, v.LISTEN_FDNAMES) : [],
  };
}

function passedFds(count: string | undefined, names: string | undefined): PassedFd[] {
  const n = count === undefined ? null : positiveInteger(count);
  if (n === null) throw new ProxyctlError('PROXYCTL_ERR_SOCKET_ACTIVATION', `LISTEN_PID is this process but LISTEN_FDS=${count ?? ''} is not a positive count`, { LISTEN_FDS: count ?? null });
  const named = names?.split(':') ?? [];
  return Array.from({ length: n }, (_, i) => ({ fd: LISTEN_FDS_START + i, name: named[i] || 'unknown' }));
}

function positiveInteger(text: string): number | null {
  return /^[1-9]\d{0,15}$/.test(text) ? Number(text) : null;
}
