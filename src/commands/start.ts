import { resolve } from 'node:path';
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { ProxyctlCommand } from '../cli/base-command.js';
import { COMMAND_FLAGS } from '../cli/flag-spec.js';
import { oclifFlags } from '../cli/oclif-flags.js';
import { parseDuration } from '../config/duration.js';
import { ProxyctlError, isProxyctlError, type ErrorCode } from '../errors.js';
import { LogFile, createLogger, isLogLevel, type LineSink } from '../log.js';
import { PrettySink } from '../log-pretty.js';
import { PACKAGE_ROOT } from '../package-root.js';
import { ensurePrivateDir } from '../runtime-dir.js';
import { Supervisor } from '../epoch/supervisor/supervisor.js';
import { installSignals } from '../epoch/supervisor/signals.js';
import { systemdIntegration } from '../systemd/index.js';

interface StartJson {
  pid: number;
  epoch: number | null;
  logFile: string | null;
}

/** What a `--daemon` child tells its parent once epoch 0 is ready, or why it is not. */
type DaemonReport = { ok: true; pid: number; epoch: number | null } | { ok: false; error: { code: ErrorCode; message: string; details: Record<string, unknown> } };

export const DEFAULT_CONFIG = resolve(PACKAGE_ROOT, 'config/default.yaml');

export default class Start extends ProxyctlCommand {
  static override summary = 'Run the supervisor: bind the listeners, start epoch 0, serve until stopped.';
  static override description =
    'Runs in the foreground (for systemd Type=notify, see `proxyctl systemd-unit`, or a terminal) and logs to stderr; SIGHUP reloads, SIGTERM and SIGINT stop gracefully (a second SIGINT stops now), SIGUSR1 reopens the log file. With --daemon it returns once epoch 0 is ready and the supervisor runs on in the background, logging to --log-file.';
  static override examples = ['<%= config.bin %> start', '<%= config.bin %> start --config /etc/proxyctl/proxyctl.yaml --daemon'];

  static override flags = oclifFlags(COMMAND_FLAGS.start);

  async run(): Promise<StartJson> {
    const { flags } = await this.parse(Start);
    const paths = this.paths(flags);
    const configPath = resolve(flags.config ?? DEFAULT_CONFIG);
    const readyMs = parseDuration(flags['ready-timeout']);
    if (!readyMs.ok) throw new ProxyctlError('PROXYCTL_ERR_USAGE', `--ready-timeout: ${readyMs.message}`, { flag: 'ready-timeout' });
    const level = flags['log-level'];
    if (!isLogLevel(level)) throw new ProxyctlError('PROXYCTL_ERR_USAGE', `--log-level must be debug, info, warn or error, got ${JSON.stringify(level)}`, { flag: 'log-level' });
    const format = flags['log-format'] ?? (process.stderr.isTTY && flags['log-file'] === undefined ? 'pretty' : 'json');
    if (format !== 'json' && format !== 'pretty') throw new ProxyctlError('PROXYCTL_ERR_USAGE', `--log-format must be json or pretty, got ${JSON.stringify(format)}`, { flag: 'log-format' });
    if (flags.daemon) return this.daemonize(paths.log, flags['log-file']);

    const logFile = flags['log-file'] === undefined ? null : new LogFile(resolve(flags['log-file']));
    const destination: LineSink = logFile ?? process.stderr;
    // Epochs always write JSON; in pretty mode their lines are rendered with the supervisor's.
    const sink = format === 'pretty' ? new PrettySink(destination) : destination;
    const log = createLogger({ component: 'supervisor', epoch: null }, sink, level);
    let sup: Supervisor;
    try {
      const systemd = systemdIntegration(log);
      sup = await Supervisor.start({
        paths,
        baseId: flags['base-id'],
        configPath,
        workersOverride: flags.workers ?? null,
        statsCapacity: flags['stats-capacity'],
        deadlines: { helloMs: Math.min(10_000, readyMs.ms), readyMs: readyMs.ms },
        log,
        logSink: sink,
        logLevel: level,
        epochEntry: resolve(PACKAGE_ROOT, 'bin/epoch.js'),
        firstEpochFault: process.env.PROXYCTL_TEST_FAULT ?? null,
        observer: systemd.observer,
        adoptable: systemd.activated,
      });
      systemd.activated?.closeUnclaimed();
    } catch (err: unknown) {
      report({ ok: false, error: isProxyctlError(err) ? { ...err.toJSON(), details: { ...err.details } } : { code: 'PROXYCTL_ERR_EPOCH_FAILED', message: String(err), details: {} } });
      await logFile?.close();
      throw err;
    }
    const epoch = sup.active?.number ?? null;
    log.info('serving', { baseId: flags['base-id'], activeEpoch: epoch, config: configPath, runtimeDir: paths.dir });
    report({ ok: true, pid: process.pid, epoch });
    const removeSignals = installSignals(sup, log, logFile);
    await sup.stopped.promise;
    removeSignals();
    await logFile?.close();
    return { pid: process.pid, epoch, logFile: logFile?.path ?? null };
  }

  /**
   * Starts this same command without --daemon in a new session, with an IPC channel it
   * reports readiness on, and returns when epoch 0 is ready (or with the child's error).
   */
  private async daemonize(defaultLog: string, logFlag: string | undefined): Promise<StartJson> {
    const logPath = resolve(logFlag ?? defaultLog);
    ensurePrivateDir(resolve(logPath, '..'));
    const args = process.argv.slice(2).filter((a) => a !== '--daemon' && a !== '--json');
    if (logFlag === undefined) args.push('--log-file', logPath);
    // Only what the supervisor could not log itself (a crash) lands on its stderr.
    const stderr = openSync(logPath, 'a', 0o600);
    // node:child_process rather than execa: this child must outlive us, and every handle to it
    // (IPC channel, stdio) must be let go once it reported, or this process would not exit.
    const child = spawn(process.execPath, [resolve(PACKAGE_ROOT, 'bin/run.js'), ...args], { detached: true, stdio: ['ignore', 'ignore', stderr, 'ipc'] });
    closeSync(stderr);
    const first = await new Promise<DaemonReport | null>((resolve) => {
      child.once('message', (m) => resolve(m as DaemonReport));
      child.once('exit', () => resolve(null));
      child.once('error', () => resolve(null));
    });
    if (first === null) {
      throw new ProxyctlError('PROXYCTL_ERR_EPOCH_FAILED', `the supervisor exited before it was ready; see ${logPath}`, { logFile: logPath });
    }
    child.disconnect();
    child.unref();
    if (!first.ok) throw new ProxyctlError(first.error.code, first.error.message, { ...first.error.details, logFile: logPath });
    if (!this.jsonEnabled()) this.log(`proxyctl: serving (supervisor pid ${first.pid}, epoch ${first.epoch}); log: ${logPath}`);
    return { pid: first.pid, epoch: first.epoch, logFile: logPath };
  }
}

/** Tells a `--daemon` parent how the start went; a no-op in the foreground. */
function report(message: DaemonReport): void {
  if (process.send === undefined) return;
  process.send(message);
  process.disconnect();
}
