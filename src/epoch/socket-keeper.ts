import { closeSync } from 'node:fs';
import { createServer } from 'node:net';
import { ProxyctlError, errnoCode } from '../errors.js';
import type { SocketAddress } from '../config/types.js';
import { nativeSockets } from '../native.js';
import { bindUnixListening, type UnixListening } from './unix-listen.js';

/**
 * Anything with an address to listen on: a listener, or the admin endpoint, which may instead
 * say `unix: true` (the keeper's Unix socket path, `<runtime dir>/base-<N>/admin.sock`).
 */
export type Bindable = { readonly address: SocketAddress } | { readonly unix: true };


/** The kernel caps this at net.core.somaxconn; asking for more costs nothing. */
const BACKLOG = 4096;

/** One listening socket the supervisor holds: listener `address`, worker slot `slot`. */
export interface KeptSocket {
  readonly address: string;
  readonly slot: number;
  readonly fd: number;
  /** A Unix socket's listener, which owns the fd (it closes it and removes the path). */
  readonly unix?: UnixListening;
}

function bindableKey(b: Bindable, unixPath: string | null): string {
  return 'unix' in b ? `unix:${unixPath}` : addressKey(b.address);
}

export function addressKey(a: SocketAddress): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/**
 * The socket keeper: the supervisor binds every listening socket once, puts it in the listen
 * state (so connections queue in the kernel while no epoch accepts) and holds it for as long
 * as some config needs it. Each listener gets one SO_REUSEPORT socket per worker slot, so
 * each worker of an epoch has its own accept queue. Epochs get copies over the hot-restart
 * RPC; closing a copy never closes the socket, because the keeper still holds it.
 */
export class SocketKeeper {
  readonly #byAddress = new Map<string, KeptSocket[]>();

  /** `unixPath`: where a `{ unix: true }` bindable listens (null: none may ask). */
  constructor(private readonly unixPath: string | null = null) {}

  /**
   * Makes sure every listener in `listeners` has at least `slots` sockets; binds what is
   * missing. Throws PROXYCTL_ERR_LISTEN (address in use, not permitted) having bound nothing
   * new, so a bad reload leaves the keeper as it was.
   */
  async ensure(listeners: readonly Bindable[], slots: number): Promise<void> {
    const added: KeptSocket[] = [];
    try {
      for (const l of listeners) {
        const key = bindableKey(l, this.unixPath);
        const have = this.#byAddress.get(key) ?? [];
        if ('unix' in l) {
          // One socket: a Unix socket has no SO_REUSEPORT group to spread over workers.
          if (have.length === 0) added.push(await this.#bindUnix(key));
          continue;
        }
        if (have.length === 0) await assertUnused(l.address, key);
        for (let slot = have.length; slot < slots; slot++) added.push({ address: key, slot, fd: bindListening(l.address, key) });
      }
    } catch (err: unknown) {
      for (const s of added) closeKept(s);
      throw err;
    }
    for (const s of added) {
      const list = this.#byAddress.get(s.address) ?? [];
      list.push(s);
      this.#byAddress.set(s.address, list);
    }
  }

  /** The sockets of `listeners`, in listener order then slot order. */
  socketsFor(listeners: readonly Bindable[]): KeptSocket[] {
    return listeners.flatMap((l) => this.#byAddress.get(bindableKey(l, this.unixPath)) ?? []);
  }

  /** Closes the sockets of every address that no config in `keep` still uses. */
  release(keep: readonly (readonly Bindable[])[]): void {
    const wanted = new Set(keep.flatMap((ls) => ls.map((l) => bindableKey(l, this.unixPath))));
    for (const [key, list] of this.#byAddress) {
      if (wanted.has(key)) continue;
      for (const s of list) closeKept(s);
      this.#byAddress.delete(key);
    }
  }

  closeAll(): void {
    this.release([]);
  }

  async #bindUnix(key: string): Promise<KeptSocket> {
    if (this.unixPath === null) throw new ProxyctlError('PROXYCTL_ERR_LISTEN', 'a Unix admin socket was asked for, but this keeper has no path for one', { address: key });
    const unix = await bindUnixListening(this.unixPath, BACKLOG);
    return { address: key, slot: 0, fd: unix.fd, unix };
  }

  get size(): number {
    let n = 0;
    for (const list of this.#byAddress.values()) n += list.length;
    return n;
  }
}

/**
 * SO_REUSEPORT lets any process of the same user join a port's group and silently take a share
 * of its connections: a second proxyctl (another base id) or a stray server on our address
 * would do exactly that. A plain bind first, without SO_REUSEPORT, fails with EADDRINUSE if
 * anybody listens there, and turns that into a clear error instead.
 */
function assertUnused(address: SocketAddress, key: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (err: Error) => {
      const errno = errnoCode(err);
      reject(new ProxyctlError('PROXYCTL_ERR_LISTEN', errno === 'EADDRINUSE' ? `${key} is already in use by another process` : `cannot bind ${key}: ${err.message}`, { address: key, errno }, { cause: err }));
    });
    probe.listen({ host: address.host, port: address.port, exclusive: true }, () => probe.close(() => resolve()));
  });
}

function bindListening(address: SocketAddress, key: string): number {
  const native = nativeSockets();
  if (native === null) {
    throw new ProxyctlError('PROXYCTL_ERR_LISTEN', 'the native socket addon is not built (run npm ci): cannot listen without accepting', { address: key });
  }
  const host = address.host === 'localhost' ? '127.0.0.1' : address.host;
  let fd: number;
  try {
    fd = native.reuseportSocket(host, address.port);
  } catch (err: unknown) {
    throw new ProxyctlError('PROXYCTL_ERR_LISTEN', `cannot bind ${key}: ${err instanceof Error ? err.message : String(err)}`, { address: key, errno: errnoCode(err) }, { cause: err });
  }
  try {
    native.listen(fd, BACKLOG);
  } catch (err: unknown) {
    closeQuietly(fd);
    throw new ProxyctlError('PROXYCTL_ERR_LISTEN', `cannot listen on ${key}: ${err instanceof Error ? err.message : String(err)}`, { address: key }, { cause: err });
  }
  return fd;
}

function closeKept(s: KeptSocket): void {
  if (s.unix !== undefined) s.unix.close();
  else closeQuietly(s.fd);
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed: nothing held
  }
}
