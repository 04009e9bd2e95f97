/**
 * Socket activation: the sockets systemd passed (a .socket unit's ListenStream=), offered to
 * the socket keeper by the address each one is bound to, so a listener (or the admin
 * endpoint) whose address matches uses it instead of binding. Matching is by the socket's own
 * address (getsockname), not by LISTEN_FDNAMES: a name is only as good as the unit file, the
 * address is what the kernel says. The offer holds each socket for the supervisor's whole
 * life, so a reload that drops a listener and a later one that brings it back find it again.
 */
import { closeSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { formatAddress } from '../config/address.js';
import type { SocketAddress } from '../config/types.js';
import { ProxyctlError, errnoCode } from '../errors.js';
import type { Logger } from '../log.js';
import { nativeSockets, type SocketInfo } from '../native.js';
import type { AdoptableSockets } from '../epoch/socket-keeper.js';
import type { PassedFd } from './env.js';

interface Passed extends PassedFd {
  /** null: not a socket at all. */
  info: SocketInfo | null;
  claimed: boolean;
}

export class ActivatedSockets implements AdoptableSockets {
  #passed: Passed[];

  /** Marks every passed fd close-on-exec (systemd passes them inheritable) and reads what each one is. */
  constructor(
    fds: readonly PassedFd[],
    private readonly log: Logger,
  ) {
    const native = nativeSockets();
    if (native === null) throw new ProxyctlError('PROXYCTL_ERR_SOCKET_ACTIVATION', 'systemd passed sockets, but the native socket addon is not built (run npm ci)', { fds: fds.length });
    this.#passed = fds.map((p) => {
      try {
        native.setCloexec(p.fd);
      } catch (err: unknown) {
        throw new ProxyctlError('PROXYCTL_ERR_SOCKET_ACTIVATION', `LISTEN_FDS names fd ${p.fd} (${p.name}), which is not open`, { fd: p.fd, name: p.name, errno: errnoCode(err) }, { cause: err });
      }
      let info: SocketInfo | null = null;
      try {
        info = native.socketInfo(p.fd);
      } catch {
        // not a socket (a FIFO, a file): it can match no listener
      }
      return { ...p, info, claimed: false };
    });
    for (const p of this.#passed) log.info('systemd passed a socket', { fd: p.fd, name: p.name, address: describe(p.info) });
  }

  fdFor(address: SocketAddress): number | null {
    const host = canonicalHost(address.host);
    const p = this.#passed.find((x) => x.info !== null && (x.info.family === 'inet' || x.info.family === 'inet6') && x.info.port === address.port && canonicalHost(x.info.host) === host);
    if (p === undefined || p.info === null) return null;
    if (!p.info.stream || !p.info.listening) {
      const what = p.info.stream ? 'a stream socket that is not listening' : 'not a stream (TCP) socket';
      throw new ProxyctlError('PROXYCTL_ERR_SOCKET_ACTIVATION', `the socket systemd passed for ${formatAddress(address)} (fd ${p.fd}, ${p.name}) is ${what}; use ListenStream= in the .socket unit`, { fd: p.fd, name: p.name, address: formatAddress(address) });
    }
    if (!p.claimed) this.log.info(`using the socket systemd passed for ${formatAddress(address)} instead of binding`, { fd: p.fd, name: p.name });
    p.claimed = true;
    return p.fd;
  }

  /** Closes, with a warning each, the passed fds no listener of the first config took: nothing would ever accept on them. */
  closeUnclaimed(): void {
    for (const p of this.#passed.filter((x) => !x.claimed)) {
      this.log.warn('closing a socket systemd passed that matches no listener or admin address', { fd: p.fd, name: p.name, address: describe(p.info) });
      closeQuietly(p.fd);
    }
    this.#passed = this.#passed.filter((x) => x.claimed);
  }

  close(): void {
    for (const p of this.#passed) closeQuietly(p.fd);
    this.#passed = [];
  }
}

/** 'localhost' listens on 127.0.0.1 (socket-keeper.ts binds it so); IPv6 in one spelling, as getsockname gives it. */
function canonicalHost(host: string): string {
  if (host === 'localhost') return '127.0.0.1';
  return isIPv6(host) ? new URL(`http://[${host}]/`).hostname.slice(1, -1) : host;
}

function describe(info: SocketInfo | null): string {
  if (info === null) return 'not a socket';
  if (info.family !== 'inet' && info.family !== 'inet6') return `${info.family} socket`;
  return `${formatAddress({ host: info.host, port: info.port })}${info.stream ? '' : ' (not TCP)'}${info.listening ? '' : ' (not listening)'}`;
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}
