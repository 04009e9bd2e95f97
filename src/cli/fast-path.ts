/**
 * The fast path for the control commands (status, reload, drain, stop, stats): bin/run.js
 * calls `runFastPath` before it loads oclif, and loads oclif only when this answers false.
 *
 * Why: deploy scripts and systemd's ExecReload call `proxyctl status` and `proxyctl reload`
 * in loops. Loading @oclif/core (about 165 CommonJS files) and its config and manifest costs
 * about 130 ms before the command runs, against about 80 ms for all of `node -e 0` (figures in
 * README.md, Development). This path imports only the command body it runs.
 *
 * It must never behave differently from oclif. So it handles only argv that
 * src/cli/fast-argv.ts is certain about, only when nothing in the environment changes what
 * oclif would print, and it prints through the same functions (src/cli/output.ts,
 * src/cli/control-commands.ts). test/cli-fast-path.test.ts runs both paths on the same argv
 * and compares stdout, stderr and the exit status.
 */
import { existsSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFastArgv, type FastInvocation } from './fast-argv.js';
import type { CommandResult } from './output.js';
import type { Progress } from './progress.js';

/** proxyctl's own variables; every other PROXYCTL_* (oclif reads CONTENT_TYPE, DEBUG, CONFIG_DIR, …) sends us to oclif. */
const OWN_ENV = new Set(['PROXYCTL_RUNTIME_DIR', 'PROXYCTL_TEST_FAULT', 'PROXYCTL_TEST_SUPERVISOR_FAULT']);

/** True when the environment may make oclif print something else: its own variables, debug output, a JSON theme. */
function environmentAffectsOclif(env: NodeJS.ProcessEnv, json: boolean): boolean {
  for (const key of Object.keys(env)) {
    if ((key.startsWith('PROXYCTL_') && !OWN_ENV.has(key)) || key.startsWith('OCLIF_')) return true;
  }
  // The `debug` package oclif logs through writes to stderr when DEBUG is set.
  if (env.DEBUG) return true;
  // oclif colours --json output with a user theme file, <config dir>/theme.json (Config.loadTheme).
  if (json) {
    const home = env.HOME || homedir() || tmpdir();
    if (existsSync(join(env.XDG_CONFIG_HOME || join(home, '.config'), 'proxyctl', 'theme.json'))) return true;
  }
  return false;
}

/** The progress line for the commands that wait (see src/cli/progress.ts), or null. */
async function progress(inv: FastInvocation, env: NodeJS.ProcessEnv): Promise<Progress | null> {
  return (await import('./progress.js')).progressOn(process.stderr, env, inv.json);
}

/** Runs the command body; each is imported only when it runs, so `status` never loads the mmap addon. */
async function runCommand(inv: FastInvocation, env: NodeJS.ProcessEnv): Promise<CommandResult<unknown>> {
  switch (inv.command) {
    case 'status':
      return (await import('./control-commands.js')).runStatus(inv.flags);
    case 'reload':
      return (await import('./control-commands.js')).runReload(inv.flags, await progress(inv, env));
    case 'drain':
      return (await import('./control-commands.js')).runDrain(inv.flags, await progress(inv, env));
    case 'stop':
      return (await import('./control-commands.js')).runStop(inv.flags, await progress(inv, env));
    case 'stats':
      return (await import('./stats-command.js')).runStats(inv.flags, inv.json);
  }
}

/** As oclif's `this.logJson` without a theme prints it: two-space JSON and a newline. */
function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}

/**
 * Runs `argv` without oclif if it can. Returns false, having done nothing, when oclif must
 * run it; true when it ran, with process.exitCode set (or the process exited, on a failure,
 * as oclif exits).
 */
export async function runFastPath(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  const inv = parseFastArgv(argv);
  if (inv === null || environmentAffectsOclif(env, inv.json)) return false;
  let result: CommandResult<unknown>;
  try {
    result = await runCommand(inv, env);
  } catch (err: unknown) {
    return fail(err, inv, env);
  }
  if (inv.json) {
    printJson((await import('./output.js')).successJson(inv.command, result.json as object));
  } else {
    const [{ paintForStream }, { humanLines }] = await Promise.all([import('./colour.js'), import('./output.js')]);
    for (const line of humanLines(result, await paintForStream(process.stdout, env, inv.flags['no-color']))) console.log(line);
  }
  return true;
}

/** Prints a failure and exits as ProxyctlCommand.catch and oclif's `handle` do. */
async function fail(err: unknown, inv: FastInvocation, env: NodeJS.ProcessEnv): Promise<never> {
  const { ProxyctlError } = await import('../errors.js');
  const { bugJson, errorJson, errorText } = await import('./output.js');
  if (err instanceof ProxyctlError) {
    if (inv.json) printJson(errorJson(err, inv.command));
    else console.error(errorText(err, await (await import('./colour.js')).paintForStream(process.stderr, env, inv.flags['no-color'])));
    process.exit(err.exitCode);
  }
  // Not one of ours: a bug. oclif prints it (ProxyctlCommand.toErrorJson with --json, else its
  // error handler with the stack), so let oclif's own code do it.
  if (inv.json && err instanceof Error) {
    printJson(bugJson(err, inv.command));
    process.exit((err as { exitCode?: number }).exitCode ?? 1);
  }
  const { handle } = await import('@oclif/core');
  await handle(err instanceof Error ? err : new Error(String(err)));
  process.exit(1);
}
