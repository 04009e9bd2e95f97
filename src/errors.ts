/**
 * Every failure proxyctl reports has a stable `code` (what tests and scripts match on) and an
 * exit code (what the CLI returns). Messages are for people and may change; codes may not.
 *
 * Exit codes follow sysexits(3) where one fits, and are documented in proxyctl(1):
 *   0 ok, 1 any other failure, 2 usage, 69 supervisor unreachable, 75 reload failed or timed out,
 *   78 invalid config.
 */

export const ExitCode = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  UNAVAILABLE: 69,
  TEMPFAIL: 75,
  CONFIG: 78,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The registry of codes: each one maps to the exit code the CLI uses when it ends a command. */
export const ERROR_CODES = {
  /** The stats region file exists but its magic, layout version, size or capacities differ. */
  PROXYCTL_ERR_SHM_INCOMPATIBLE: ExitCode.FAILURE,
  /** The stats region's header is sound but an entry inside it points outside the region. */
  PROXYCTL_ERR_SHM_CORRUPT: ExitCode.FAILURE,
  /** No room left for another stat (entries, name bytes or value slots). */
  PROXYCTL_ERR_SHM_FULL: ExitCode.FAILURE,
  /** A stat name that is empty, too long, or already allocated as another type. */
  PROXYCTL_ERR_STAT_NAME: ExitCode.FAILURE,
  /** A cross-process lock could not be taken before its deadline (its owner is alive). */
  PROXYCTL_ERR_SHM_LOCK_TIMEOUT: ExitCode.FAILURE,
  /** The stats region file could not be created, opened or mapped. */
  PROXYCTL_ERR_SHM_IO: ExitCode.FAILURE,
  /** Nothing runs under this base id: no stats region or supervisor socket in the runtime dir. */
  PROXYCTL_ERR_NOT_RUNNING: ExitCode.UNAVAILABLE,
  /** A command-line flag or argument is malformed (bad regex, out-of-range number). */
  PROXYCTL_ERR_USAGE: ExitCode.USAGE,
  /** A listening socket could not be bound or put in the listen state (address in use, no permission). */
  PROXYCTL_ERR_LISTEN: ExitCode.FAILURE,
  /** The runtime directory is missing, not ours, or open to other users. */
  PROXYCTL_ERR_RUNTIME_DIR: ExitCode.FAILURE,
  /** The hot-restart peer speaks another protocol or stats layout version. */
  PROXYCTL_ERR_HOT_RESTART_VERSION: ExitCode.TEMPFAIL,
  /** An RPC request got no reply before its deadline. */
  PROXYCTL_ERR_RPC_TIMEOUT: ExitCode.TEMPFAIL,
  /** The RPC connection closed while requests were pending, or before it was opened. */
  PROXYCTL_ERR_RPC_CLOSED: ExitCode.UNAVAILABLE,
  /** Nobody listens on the RPC socket path. */
  PROXYCTL_ERR_RPC_UNREACHABLE: ExitCode.UNAVAILABLE,
  /** The peer broke the wire format: oversized frame, bad header, fd count mismatch, bad JSON. */
  PROXYCTL_ERR_RPC_PROTOCOL: ExitCode.FAILURE,
  /** The peer did not recognize the message type we sent. */
  PROXYCTL_ERR_RPC_UNRECOGNIZED: ExitCode.FAILURE,
  /** The peer's uid differs from ours (checked with SO_PEERCRED). */
  PROXYCTL_ERR_RPC_PEER_CREDENTIALS: ExitCode.FAILURE,
  /** The peer's handler failed; the reply carries the peer's own code in `details.remoteCode`. */
  PROXYCTL_ERR_RPC_REMOTE: ExitCode.FAILURE,
  /** The config file is not valid YAML or breaks the schema; `details.errors` lists every issue with file, line and column. */
  PROXYCTL_ERR_CONFIG_INVALID: ExitCode.CONFIG,
  /** The config file is missing or cannot be read (`details.errno` says why). */
  PROXYCTL_ERR_CONFIG_READ: ExitCode.CONFIG,
  /** A supervisor already runs under this base id (`details.pid`); it was left untouched. */
  PROXYCTL_ERR_ALREADY_RUNNING: ExitCode.FAILURE,
  /** The new epoch exited, crashed or was refused before it said ready; the serving epoch was not touched. */
  PROXYCTL_ERR_EPOCH_FAILED: ExitCode.TEMPFAIL,
  /** The new epoch missed a deadline on its way to ready (`details.step`) and was killed. */
  PROXYCTL_ERR_READY_TIMEOUT: ExitCode.TEMPFAIL,
  /** The supervisor is stopping and takes no more reloads. */
  PROXYCTL_ERR_STOPPING: ExitCode.TEMPFAIL,
  /** The supervisor did not exit before the stop deadline. */
  PROXYCTL_ERR_STOP_TIMEOUT: ExitCode.TEMPFAIL,
  /** A `strictDns` lookup failed (timeout, refused, SERVFAIL, ...); the cluster keeps its last good hosts. */
  PROXYCTL_ERR_DISCOVERY_DNS: ExitCode.FAILURE,
  /** An endpoints file is missing, unreadable, not valid YAML/JSON or breaks the endpoint schema (a `file:line:col` line per issue); the cluster keeps its last good hosts. */
  PROXYCTL_ERR_DISCOVERY_FILE: ExitCode.FAILURE,
  /** systemd passed sockets (LISTEN_FDS) that cannot be used: malformed LISTEN_* variables, or a socket on a listener's address that is not a listening TCP socket. */
  PROXYCTL_ERR_SOCKET_ACTIVATION: ExitCode.FAILURE,
} as const satisfies Record<string, ExitCode>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Base class of every error proxyctl throws on purpose. */
export class ProxyctlError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: ExitCode;
  /** Machine-readable facts about the failure (what differed, which path, which stat). */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ProxyctlError';
    this.code = code;
    this.exitCode = ERROR_CODES[code];
    this.details = details;
  }

  toJSON(): { code: ErrorCode; message: string; details: Readonly<Record<string, unknown>> } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

export function isProxyctlError(err: unknown, code?: ErrorCode): err is ProxyctlError {
  return err instanceof ProxyctlError && (code === undefined || err.code === code);
}

/** Narrows an unknown throwable to a Node system error with an errno code such as ENOENT. */
export function errnoCode(err: unknown): string | undefined {
  if (err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string') {
    return (err as NodeJS.ErrnoException).code;
  }
  return undefined;
}
