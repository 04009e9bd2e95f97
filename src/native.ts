import { createRequire } from 'node:module';

/** What native/sockets.c exports (built by node-gyp on install into build/Release). */
export interface NativeSockets {
  /** True on Linux, where SO_PEERCRED exists. */
  supported: boolean;
  peerCred(fd: number): { pid: number; uid: number; gid: number } | null;
  /** A bound, not yet listening TCP socket with SO_REUSEPORT; `host` is an IP literal. */
  reuseportSocket(host: string, port: number): number;
  /** listen(2) without accepting. Throws with code ERR_LISTEN. */
  listen(fd: number, backlog: number): void;
  /** Sets FD_CLOEXEC, so spawned processes do not inherit `fd`. Throws with code ERR_FCNTL. */
  setCloexec(fd: number): void;
  /**
   * One AF_UNIX datagram to `path` (a leading '@': the abstract namespace), never blocking.
   * Throws with code ENOENT, ECONNREFUSED (nobody receives there), EAGAIN (the receiver's
   * queue is full) or ERR_SENDTO.
   */
  sendDatagram(path: string, data: Buffer): void;
  /** What `fd` is: family, bound IPv4/IPv6 address (host '' and port 0 otherwise), SOCK_STREAM, listening. Throws ENOTSOCK. */
  socketInfo(fd: number): SocketInfo;
  /** A close-on-exec duplicate of `fd` (fcntl F_DUPFD_CLOEXEC). Throws with code ERR_FCNTL. */
  dupCloexec(fd: number): number;
}

export interface SocketInfo {
  family: 'inet' | 'inet6' | 'unix' | 'other';
  host: string;
  port: number;
  stream: boolean;
  listening: boolean;
}

let loaded: NativeSockets | null | undefined;

function isNativeSockets(value: unknown): value is NativeSockets {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<Record<keyof NativeSockets, unknown>>;
  return typeof v.peerCred === 'function' && typeof v.listen === 'function' && typeof v.reuseportSocket === 'function' && typeof v.setCloexec === 'function' && typeof v.sendDatagram === 'function' && typeof v.socketInfo === 'function' && typeof v.dupCloexec === 'function' && typeof v.supported === 'boolean';
}

/** The addon, or null when it was not built (the callers say what that turns off). */
export function nativeSockets(): NativeSockets | null {
  if (loaded !== undefined) return loaded;
  try {
    // Compiled to dist/src/native.js; node-gyp puts the addon in build/Release at the package root.
    const mod: unknown = createRequire(import.meta.url)('../../build/Release/proxyctl_native.node');
    loaded = isNativeSockets(mod) ? mod : null;
  } catch {
    loaded = null;
  }
  return loaded;
}
