/**
 * A serving epoch whose worker thread died. Node isolates worker threads (each has its own
 * heap and event loop), so the other workers' connections are unharmed; exiting the epoch, as
 * Envoy and HAProxy must when one of their threads crashes (threads share one address space
 * there), would cut every one of them. Restarting the thread in place, as PM2 and Node's
 * cluster restart a dead process, would need a path of its own: the thread's listening fds
 * closed with it, and its plane was built from state that may be what killed it. Instead the
 * epoch serves on with what it has and asks the supervisor for a replacement on the current
 * config, the same bring-up as a reload (fresh process, every deadline, the standby when
 * warm); the crashed epoch then drains gracefully with the rest. The dead worker's sockets stay
 * listening in the supervisor, so its share of new connections waits in the backlog meanwhile.
 */
import { isProxyctlError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { RpcConnection } from '../../uds-rpc/index.js';

/**
 * Tells the supervisor that worker `worker` died. Resolves true if the epoch may serve on (a
 * replacement is coming, or this epoch is not the active one and leaves anyway), false if the
 * supervisor could not be told (an older one answers unrecognized): the caller then exits 70
 * and is respawned like any crashed epoch.
 */
export async function askForReplacement(conn: RpcConnection, worker: number, reason: string, workersLeft: number, log: Logger): Promise<boolean> {
  log.error('worker crashed: serving on with the other workers, asking the supervisor for a replacement epoch', { worker, reason, workersLeft });
  try {
    const { body } = await conn.request({ type: 'workerCrashed', worker, reason });
    if (!body.replacing) log.warn('worker crashed in an epoch that is not the active one: nothing replaces it, it drains as it was', { worker });
    return true;
  } catch (err: unknown) {
    log.error('the supervisor could not be asked for a replacement: exiting so that it respawns one', { code: isProxyctlError(err) ? err.code : undefined, error: err });
    return false;
  }
}
