/**
 * Every process the soak starts, kept by pid so that all of them are stopped at the end, on
 * Ctrl-C too: the upstream backends (test/fixtures, one process each, so their CPU is not the
 * clients'), and proxyctl itself, started as users run it (`bin/run.js start`). Each is in a
 * process group of its own, so a Ctrl-C reaches only the soak, which then stops them in order:
 * load first, then proxyctl, then the backends.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { once } from 'node:events';
import { fixture } from '../helpers.js';
import { RUN_JS, listeningPort, logEntries } from '../fixtures/supervisor-util.js';
import { processIsAlive } from '../../src/shm/locks.js';

export class OwnedProcesses {
  readonly #children = new Set<ChildProcess>();
  /** Epoch pids seen in `proxyctl status`: the supervisor should end them, and we check it did. */
  readonly epochPids = new Set<number>();

  /** Starts a fixture backend (`named-backend` or `echo-backend`) and resolves with its port once it listens. */
  async backend(name: 'named-backend' | 'echo-backend', args: string[]): Promise<{ port: number; child: ChildProcess }> {
    const child = this.#own(spawn(process.execPath, [fixture(name), ...args], { stdio: ['ignore', 'pipe', 'inherit'], detached: true }));
    const port = await listeningPort(child, `${name} ${args.join(' ')}`);
    return { port, child };
  }

  /** `proxyctl start` in the foreground, logging JSON to `logFile`; resolves once it serves. */
  async proxyctl(common: readonly string[], configPath: string, logFile: string): Promise<ChildProcess> {
    const child = this.#own(spawn(process.execPath, [RUN_JS, 'start', '--config', configPath, '--log-file', logFile, ...common], { stdio: ['ignore', 'ignore', 'inherit'], detached: true }));
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`proxyctl start exited with ${child.exitCode}; see ${logFile}`);
      if (existsSync(logFile) && logEntries(readFileSync(logFile, 'utf8')).some((e) => e.component === 'supervisor' && e.msg === 'serving')) return child;
      if (Date.now() > deadline) throw new Error(`proxyctl start did not serve within 60 s; see ${logFile}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** SIGKILLs one process the soak started (a flapping backend) and waits until it is gone. */
  async kill(child: ChildProcess): Promise<void> {
    if (child.exitCode === null && child.signalCode === null) {
      const gone = once(child, 'exit');
      child.kill('SIGKILL');
      await gone;
    }
    this.#children.delete(child);
  }

  /**
   * Stops proxyctl gracefully (SIGINT, a second one after 2 s skips the drain), then every
   * backend, then any epoch the supervisor left (there should be none: the count is returned).
   */
  async stopAll(proxyctl: ChildProcess | null): Promise<number> {
    if (proxyctl !== null && proxyctl.exitCode === null && proxyctl.signalCode === null) {
      const gone = once(proxyctl, 'exit');
      proxyctl.kill('SIGINT');
      const again = setTimeout(() => proxyctl.kill('SIGINT'), 2_000);
      const hard = setTimeout(() => proxyctl.kill('SIGKILL'), 30_000);
      await gone;
      clearTimeout(again);
      clearTimeout(hard);
    }
    for (const child of this.#children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    this.#children.clear();
    let left = 0;
    for (const pid of this.epochPids) {
      if (!processIsAlive(pid)) continue;
      left++;
      process.kill(pid, 'SIGKILL');
    }
    return left;
  }

  #own(child: ChildProcess): ChildProcess {
    this.#children.add(child);
    child.once('exit', () => this.#children.delete(child));
    return child;
  }
}
