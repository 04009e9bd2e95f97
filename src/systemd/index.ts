/**
 * The supervisor under systemd: what start.ts wires in. Outside systemd (no NOTIFY_SOCKET, no
 * LISTEN_FDS) this is a quiet observer and no sockets to adopt.
 */
import type { Logger } from '../log.js';
import { NO_OBSERVER, type SupervisorObserver } from '../epoch/supervisor/observer.js';
import { takeSystemdEnv } from './env.js';
import { ActivatedSockets } from './listen-fds.js';
import { SystemdNotifier } from './notify.js';

export interface SystemdIntegration {
  observer: SupervisorObserver;
  /** The sockets systemd passed, or null when it passed none. */
  activated: ActivatedSockets | null;
}

/**
 * Takes systemd's variables out of this process's environment (epochs inherit it; see
 * env.ts) and makes the observer and the adoptable sockets from them. Call it before the
 * supervisor spawns anything. Throws PROXYCTL_ERR_SOCKET_ACTIVATION (see env.ts, listen-fds.ts).
 */
export function systemdIntegration(log: Logger): SystemdIntegration {
  const env = takeSystemdEnv(process.env, process.pid);
  return {
    observer: env.notifySocket === null ? NO_OBSERVER : new SystemdNotifier(env.notifySocket, env.watchdogUsec, log),
    activated: env.listenFds.length === 0 ? null : new ActivatedSockets(env.listenFds, log),
  };
}
