/**
 * Which worker accepts on which received socket. Pure, so the rule is easy to read and test:
 * a listener's sockets, in slot order, go round-robin over the workers (socket i → worker
 * i % W). Every fd of a known listener is used, even with more slots than workers, because a
 * socket nobody accepts on would leave its accept queue (its share of the connections)
 * orphaned.
 */
import type { ListenSocketDescriptor } from '../../uds-rpc/index.js';
import type { WorkerSocket } from './types.js';

export interface UnusedSocket {
  readonly kind: ListenSocketDescriptor['kind'];
  readonly name: string;
  readonly fd: number;
}

export interface SocketPlan {
  /** `perWorker[w]`: the listener sockets worker w accepts on. */
  readonly perWorker: WorkerSocket[][];
  /** The admin endpoint's fd, or null when none was handed over. */
  readonly admin: number | null;
  /** fds nobody will use (a listener the config does not have, a second admin socket); the caller closes them. */
  readonly unused: UnusedSocket[];
  /** Listeners of the config that got no socket at all. */
  readonly missing: string[];
}

/**
 * @param sockets the descriptors of a `getListenSockets` reply
 * @param fds that reply's fds (`sockets[i].fdIndex` indexes them; the validator checked the range)
 * @param listeners the names of the config's listeners
 */
export function planSockets(sockets: readonly ListenSocketDescriptor[], fds: readonly number[], listeners: readonly string[], workers: number): SocketPlan {
  if (!Number.isInteger(workers) || workers < 1) throw new RangeError(`workers must be a positive integer, got ${workers}`);
  const perWorker: WorkerSocket[][] = Array.from({ length: workers }, () => []);
  const unused: UnusedSocket[] = [];
  const known = new Set(listeners);
  const byListener = new Map<string, ListenSocketDescriptor[]>();
  let admin: number | null = null;
  for (const s of sockets) {
    const fd = fds[s.fdIndex] as number;
    if (s.kind === 'admin') {
      if (admin === null) admin = fd;
      else unused.push({ kind: s.kind, name: s.name, fd });
    } else if (!known.has(s.name)) {
      unused.push({ kind: s.kind, name: s.name, fd });
    } else {
      const list = byListener.get(s.name) ?? [];
      list.push(s);
      byListener.set(s.name, list);
    }
  }
  for (const [name, list] of byListener) {
    list.sort((a, b) => a.slot - b.slot);
    list.forEach((s, i) => {
      (perWorker[i % workers] as WorkerSocket[]).push({ listener: name, slot: s.slot, fd: fds[s.fdIndex] as number });
    });
  }
  return { perWorker, admin, unused, missing: listeners.filter((name) => !byListener.has(name)) };
}
