import { mkdirSync, lstatSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { ProxyctlError, errnoCode } from './errors.js';

/** Where the runtime files of every base id live, before a base id is chosen. */
export interface RuntimeDirInputs {
  /** `--runtime-dir` as given on the command line, if any. */
  flag?: string | undefined;
  /** The process environment (only PROXYCTL_RUNTIME_DIR and XDG_RUNTIME_DIR are read). */
  env: Readonly<Record<string, string | undefined>>;
  uid: number;
}

/**
 * Resolves the runtime directory: `--runtime-dir`, then `$PROXYCTL_RUNTIME_DIR`, then
 * `$XDG_RUNTIME_DIR/proxyctl`, then `/run/proxyctl` for root, else `/tmp/proxyctl-<uid>`.
 * Pure: the table tests in test/runtime-dir.test.ts pin the precedence.
 */
export function resolveRuntimeDir({ flag, env, uid }: RuntimeDirInputs): string {
  if (flag) return flag;
  if (env.PROXYCTL_RUNTIME_DIR) return env.PROXYCTL_RUNTIME_DIR;
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, 'proxyctl');
  return uid === 0 ? '/run/proxyctl' : `/tmp/proxyctl-${uid}`;
}

/** The files that belong to one base id inside the runtime directory. */
export interface BaseIdPaths {
  dir: string;
  /** The shared stats region (mmap'd). */
  stats: string;
  /** The hot-restart RPC socket (supervisor side listens; epochs and the CLI connect). */
  hotRestartSocket: string;
  /** The supervisor's claim on the base id (a lock word; never deleted). */
  lock: string;
  /** Where `start --daemon` logs unless `--log-file` says otherwise. */
  log: string;
  /** The admin endpoint's Unix socket, when the config says `admin: { unix: true }` (mode 0600). */
  adminSocket: string;
}

export function baseIdPaths(runtimeDir: string, baseId: number): BaseIdPaths {
  if (!Number.isInteger(baseId) || baseId < 0 || baseId > 65535) {
    throw new RangeError(`base id must be an integer from 0 to 65535, got ${baseId}`);
  }
  const dir = join(runtimeDir, `base-${baseId}`);
  return { dir, stats: join(dir, 'stats'), hotRestartSocket: join(dir, 'hot-restart.sock'), lock: join(dir, 'supervisor.lock'), log: join(dir, 'proxyctl.log'), adminSocket: join(dir, 'admin.sock') };
}

/**
 * Creates `dir` (and missing parents) with mode 0700, or checks an existing one. The
 * directory must belong to the calling user and be closed to group and others, because its
 * permissions are what keep other local users away from the RPC socket and the stats region.
 * A looser existing directory is refused rather than silently tightened: somebody else may be
 * relying on it, and the operator should know.
 */
export function ensurePrivateDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err: unknown) {
    throw new ProxyctlError('PROXYCTL_ERR_RUNTIME_DIR', `cannot create runtime directory ${dir}: ${String(err)}`, { path: dir, errno: errnoCode(err) }, { cause: err });
  }
  const st = lstatSync(dir);
  if (!st.isDirectory()) {
    throw new ProxyctlError('PROXYCTL_ERR_RUNTIME_DIR', `runtime path ${dir} is not a directory`, { path: dir });
  }
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) {
    throw new ProxyctlError('PROXYCTL_ERR_RUNTIME_DIR', `runtime directory ${dir} belongs to uid ${st.uid}, not to us (uid ${uid})`, { path: dir, owner: st.uid, uid });
  }
  if ((st.mode & 0o077) !== 0) {
    // mkdir's mode is filtered by the umask and never loosens; a fresh directory can only be
    // stricter than 0700. A looser one existed before us.
    throw new ProxyctlError('PROXYCTL_ERR_RUNTIME_DIR', `runtime directory ${dir} has mode ${(st.mode & 0o777).toString(8)}; it must not be open to group or others (chmod 700)`, { path: dir, mode: st.mode & 0o777 });
  }
  if ((st.mode & 0o700) !== 0o700) chmodSync(dir, 0o700);
}
