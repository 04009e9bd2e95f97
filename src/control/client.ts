/**
 * The CLI's side of the control channel: a hot-restart RPC connection with role `cli`. Errors
 * the supervisor raised come back as themselves (their own code and exit status), not as a
 * generic remote failure, so `proxyctl reload` exits 78 for a bad config and 75 for a failed
 * epoch whether the check ran here or in the supervisor.
 */
import { ERROR_CODES, ProxyctlError, isProxyctlError, type ErrorCode } from '../errors.js';
import type { BaseIdPaths } from '../runtime-dir.js';
import type { ReplyOf, RpcConnection, RpcRequest } from '../uds-rpc/index.js';
// connectRpc from its own module, not the index: the index also loads the server side
// (server.ts), which a client never uses; 6-8 ms of `proxyctl status` (import of index.js
// 36.5 ms against 28.6 ms for client.js, best of 12).
import { connectRpc } from '../uds-rpc/client.js';

/** Connects to the supervisor of `paths`; PROXYCTL_ERR_NOT_RUNNING (69) when nobody listens there. */
export async function connectSupervisor(paths: BaseIdPaths, baseId: number): Promise<RpcConnection> {
  try {
    return await connectRpc(paths.hotRestartSocket, { role: 'cli', epoch: -1 });
  } catch (err: unknown) {
    if (isProxyctlError(err, 'PROXYCTL_ERR_RPC_UNREACHABLE')) {
      throw new ProxyctlError('PROXYCTL_ERR_NOT_RUNNING', `no supervisor runs under base id ${baseId} (nothing listens on ${paths.hotRestartSocket})`, { path: paths.hotRestartSocket, baseId }, { cause: err });
    }
    throw err;
  }
}

/** Sends one request and returns the reply body; the supervisor's own errors are rethrown as they were. */
export async function request<M extends RpcRequest>(conn: RpcConnection, message: M, timeoutMs: number): Promise<ReplyOf<M['type']>> {
  try {
    return (await conn.request(message, { timeoutMs })).body;
  } catch (err: unknown) {
    throw unwrapRemote(err);
  }
}

/** One request on a fresh connection, closed afterwards. */
export async function askSupervisor<M extends RpcRequest>(paths: BaseIdPaths, baseId: number, message: M, timeoutMs: number): Promise<ReplyOf<M['type']>> {
  const conn = await connectSupervisor(paths, baseId);
  try {
    return await request(conn, message, timeoutMs);
  } finally {
    conn.close();
  }
}

function unwrapRemote(err: unknown): unknown {
  if (!isProxyctlError(err, 'PROXYCTL_ERR_RPC_REMOTE')) return err;
  const code = err.details.remoteCode;
  if (typeof code !== 'string' || !Object.hasOwn(ERROR_CODES, code)) return err;
  const details = err.details.remoteDetails;
  return new ProxyctlError(code as ErrorCode, String(err.details.remoteMessage), typeof details === 'object' && details !== null ? { ...details } : {}, { cause: err });
}
