/**
 * A listening Unix socket the supervisor holds without accepting on it, as it holds its TCP
 * sockets: usocket's UServer binds and listens, and is paused before it ever polls, so
 * connections queue in the kernel until an epoch accepts on its copy of the fd. The path
 * lives in the base id's private runtime dir (0700; the lock makes it ours), so a file left
 * there by a dead supervisor is removed before the bind. Mode 0600: only this user connects.
 */
import { chmodSync, unlinkSync } from 'node:fs';
import { ProxyctlError, errnoCode } from '../errors.js';
import { nativeSockets } from '../native.js';
import { UServer, closeOnExec } from '../uds-rpc/usocket.js';

export interface UnixListening {
  readonly fd: number;
  /** Closes the socket and removes its path. Idempotent. */
  close(): void;
}

export async function bindUnixListening(path: string, backlog: number): Promise<UnixListening> {
  removeQuietly(path);
  const server = new UServer();
  server.pause();
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.removeListener('error', reject);
        resolve();
      });
    });
  } catch (err: unknown) {
    throw new ProxyctlError('PROXYCTL_ERR_LISTEN', `cannot listen on ${path}: ${err instanceof Error ? err.message : String(err)}`, { address: path, errno: errnoCode(err) }, { cause: err });
  }
  const fd = server.fd!;
  closeOnExec(fd);
  chmodSync(path, 0o600);
  // UServer listens with a backlog of 16; the kernel takes a second listen(2) as a new backlog.
  nativeSockets()?.listen(fd, backlog);
  let closed = false;
  return {
    fd,
    close: () => {
      if (closed) return;
      closed = true;
      server.close();
      removeQuietly(path);
    },
  };
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // not there: nothing to remove
  }
}
