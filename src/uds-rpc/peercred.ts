/**
 * Peer credential check for the hot-restart socket (native/sockets.c, SO_PEERCRED).
 *
 * What is checked, exactly: on Linux, right after a connection is accepted (server) or
 * established (client), we ask the kernel for the peer's credentials as they were when the
 * connection was made, and require the peer's effective uid to equal our own effective uid.
 * Nothing else is compared: pid and gid are recorded for logs only. There is no exception for
 * root: a root supervisor accepts only root peers, and a non-root supervisor refuses a root
 * peer, because a socket that hands out listening fds should only ever be shared by one user.
 * The first line of defence stays the 0700 runtime directory and the 0600 socket; this check
 * is the second, and it holds even if those permissions are loosened by mistake.
 *
 * Where the addon is missing (not built, or not Linux) the check is skipped, and
 * peerCredentialsSupported() says so; callers log that once rather than failing.
 */
import { ProxyctlError } from '../errors.js';
import { nativeSockets } from '../native.js';
import type { PeerCredentials } from './types.js';

/** One line for the README and `proxyctl --help`. */
export const PEER_CREDENTIALS_POLICY =
  "On Linux, both ends of the hot-restart socket check the peer's effective uid with SO_PEERCRED and refuse any peer whose uid differs from their own (root included: root only talks to root); elsewhere, the 0700 runtime directory is the only guard.";

/** True when peer uids are actually checked on this machine. */
export function peerCredentialsSupported(): boolean {
  return nativeSockets()?.supported === true;
}

/** The kernel's credentials for the peer of connected socket `fd`, or null when unsupported. */
export function readPeerCredentials(fd: number): PeerCredentials | null {
  const native = nativeSockets();
  return native === null || !native.supported ? null : native.peerCred(fd);
}

/** Our effective uid, the one peers must match; undefined where Node has no uids (Windows). */
export function ourUid(): number | undefined {
  return process.geteuid?.();
}

/**
 * Returns the peer's credentials after checking its uid against `expectedUid` (default: ours),
 * or null when the check cannot run here. Throws PROXYCTL_ERR_RPC_PEER_CREDENTIALS on a
 * mismatch or when the kernel will not say.
 */
export function checkPeerCredentials(fd: number | undefined, expectedUid: number | undefined = ourUid()): PeerCredentials | null {
  if (!peerCredentialsSupported() || expectedUid === undefined) return null;
  if (fd === undefined) {
    throw new ProxyctlError('PROXYCTL_ERR_RPC_PEER_CREDENTIALS', 'cannot check the peer: socket has no fd', {});
  }
  let creds: PeerCredentials | null;
  try {
    creds = readPeerCredentials(fd);
  } catch (err: unknown) {
    throw new ProxyctlError('PROXYCTL_ERR_RPC_PEER_CREDENTIALS', `cannot read peer credentials: ${err instanceof Error ? err.message : String(err)}`, {}, { cause: err });
  }
  if (creds === null) return null;
  if (creds.uid !== expectedUid) {
    throw new ProxyctlError('PROXYCTL_ERR_RPC_PEER_CREDENTIALS', `peer pid ${creds.pid} runs as uid ${creds.uid}, expected uid ${expectedUid}`, { peerUid: creds.uid, peerPid: creds.pid, expectedUid });
  }
  return creds;
}
