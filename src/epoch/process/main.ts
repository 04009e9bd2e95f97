/**
 * Entry of an epoch process (bin/epoch.js). The supervisor spawns it as
 *
 *   node bin/epoch.js --socket <hot-restart.sock> --stats <stats region> --epoch N --base-id B
 *     --workers N --log-level L [--standby]
 *
 * with stdout and stderr piped into its log: it writes JSON lines (src/log.ts). Exit codes: 0 normal end; 1 any other failure;
 * 2 bad arguments; 70 a crash (fault hook, uncaught error, dead worker); 75 hello refused for
 * version; 78 invalid config (every issue logged as `file:line:col: path: message`).
 */
import { formatIssue } from '../../config/index.js';
import type { ConfigIssue } from '../../config/types.js';
import { isProxyctlError } from '../../errors.js';
import { createLogger, type Logger } from '../../log.js';
import { parseEpochArgs } from './args.js';
import { EpochExitCode, EpochProcess } from './epoch-process.js';
import type { EpochArgs } from './types.js';

/** Logs why the boot failed and says which exit code that is. */
function exitCodeFor(err: unknown, log: Logger): number {
  if (isProxyctlError(err, 'PROXYCTL_ERR_CONFIG_INVALID')) {
    const issues = Array.isArray(err.details.errors) ? (err.details.errors as ConfigIssue[]) : [];
    log.error('the config is invalid', { issues: issues.length });
    for (const issue of issues) log.error(formatIssue(issue));
    return EpochExitCode.CONFIG;
  }
  if (isProxyctlError(err, 'PROXYCTL_ERR_HOT_RESTART_VERSION')) {
    log.error('the supervisor refused our hello: incompatible hot-restart versions', { error: err.message });
    return EpochExitCode.VERSION;
  }
  log.error('boot failed', { code: isProxyctlError(err) ? err.code : undefined, error: err });
  return EpochExitCode.FAILURE;
}

/** A log line the supervisor can no longer read (see start). */
function dropLogLine(): void {}

function start(): void {
  let args: EpochArgs;
  try {
    args = parseEpochArgs(process.argv.slice(2));
  } catch (err: unknown) {
    process.stderr.write(`proxyctl epoch: ${isProxyctlError(err) ? `${err.code}: ` : ''}${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  }
  process.title = `proxyctl-epoch-${args.epoch}`;
  const log = createLogger({ component: 'epoch', epoch: args.epoch }, process.stderr, args.logLevel);
  const crash = (err: unknown): void => {
    log.error('crashed', { error: err, stack: err instanceof Error ? err.stack : undefined });
    process.exit(EpochExitCode.CRASH);
  };
  // The supervisor reads our stdout and stderr into its log. If it was killed, every write
  // fails with EPIPE, and an unheard stream error would end this process and every connection
  // it still serves; it must live on to drain (epoch-process.ts #onRpcClosed). The lines are lost.
  process.stdout.on('error', dropLogLine);
  process.stderr.on('error', dropLogLine);
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
  const epoch = new EpochProcess(args, log);
  process.on('SIGTERM', () => epoch.onSignal('SIGTERM'));
  process.on('SIGINT', () => epoch.onSignal('SIGINT'));
  // A listener also keeps Node from starting its inspector on SIGUSR1 (its default).
  process.on('SIGUSR1', () => void epoch.reopenLogs());
  epoch.run().catch((err: unknown) => void epoch.exit(exitCodeFor(err, log), 'boot failed'));
}

start();
