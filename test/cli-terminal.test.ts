/**
 * What proxyctl writes on a terminal and what it writes elsewhere, against one real supervisor.
 * The terminal is a pseudo-terminal (python3's pty module runs the CLI on one and copies what it
 * writes): colour in the status table and a progress line for `drain --wait` and `stop`, erased
 * when done. TERM=dumb, NO_COLOR and --no-color take the colour away on that same terminal; a
 * pipe gets neither colour nor progress (unless FORCE_COLOR), and `--json` is one envelope.
 */
// biome-ignore-all lint/suspicious/noControlCharactersInRegex: the regexes match ANSI escapes and CR, which are control characters
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { test, type TestContext } from 'node:test';
import { RUN_JS, configYaml, eventually, exitOf, freePort, startProxyctl, type Instance } from './fixtures/supervisor-util.js';

/** Runs argv on a pseudo-terminal; exits with the child's status. */
const PTY = 'import os, pty, sys; sys.exit(os.waitstatus_to_exitcode(pty.spawn(sys.argv[1:])))';

/** SGR: a colour or weight escape. */
const SGR = /\x1b\[[0-9;]*m/;
/** What the progress line redraws with: CR, erase to the end of the line. */
const REDRAW = '\r\x1b[K';

interface TtyRun {
  code: number | null;
  /** Everything the CLI wrote to the terminal (stdout and stderr), with the terminal's CRLF as LF. */
  out: string;
}

function onTerminal(inst: Instance, args: string[], env: Record<string, string> = {}): Promise<TtyRun> {
  const argv = [process.execPath, RUN_JS, ...args, '--base-id', String(inst.baseId), '--runtime-dir', inst.runtimeDir];
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && k !== 'NO_COLOR' && k !== 'FORCE_COLOR') base[k] = v;
  const child = spawn('python3', ['-c', PTY, ...argv], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...base, TERM: 'xterm-256color', ...env } });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return exitOf(child).then((code) => ({ code, out: out.replace(/\r\n/g, '\n') }));
}

/** An idle HTTP connection to the listener, counted by the epoch once its worker took it. */
async function holdConnection(t: TestContext, inst: Instance, port: number, epoch: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  t.after(() => socket.destroy());
  await eventually(async () => ((await inst.cli(['status', '--json'])).json?.epochs ?? []).some((e: { epoch: number; connections: number }) => e.epoch === epoch && e.connections === 1), 5_000, 'the connection counted', 100);
  return socket;
}

test('colour and progress on a terminal only; NO_COLOR, TERM=dumb and --no-color remove the colour; pipes and --json unchanged', async (t) => {
  const port = await freePort();
  const inst = await startProxyctl(t, configYaml({ port, workers: 1, drainTime: '300ms', parentShutdownTime: '1s' }));

  // The status table: the active state green, the header bold, on a terminal.
  const tty = await onTerminal(inst, ['status']);
  assert.equal(tty.code, 0);
  assert.match(tty.out, /\x1b\[32mactive\x1b\[39m/);
  assert.match(tty.out, /\x1b\[1mEPOCH +PID +STATE/);
  const dumb = await onTerminal(inst, ['status'], { TERM: 'dumb' });
  assert.equal(dumb.code, 0);
  assert.doesNotMatch(dumb.out, SGR);
  assert.match(dumb.out, /^0 +\d+ +active /m);
  // An error: plain on a terminal with NO_COLOR and in a pipe; `proxyctl: CODE:` red with the
  // code bold where colour is on (forced into the pipe here, as a terminal would get it).
  const noColour = await onTerminal(inst, ['stats', '--filter', '('], { NO_COLOR: '1' });
  assert.equal(noColour.code, 2);
  assert.doesNotMatch(noColour.out, SGR);
  assert.match(noColour.out, /^proxyctl: PROXYCTL_ERR_USAGE: /);
  const piped = await inst.cli(['stats', '--filter', '(']);
  assert.match(piped.stderr, /^proxyctl: PROXYCTL_ERR_USAGE: /);
  const forced = await inst.cli(['stats', '--filter', '('], { FORCE_COLOR: '1', NO_COLOR: '' });
  assert.match(forced.stderr, /^\x1b\[31mproxyctl: \x1b\[1mPROXYCTL_ERR_USAGE\x1b\[22m:\x1b\[39m /);

  // A pipe: no colour, and the same status lines.
  const status = await inst.cli(['status']);
  assert.doesNotMatch(status.stdout + status.stderr, /\x1b/);
  assert.match(status.stdout, /^EPOCH +PID +STATE +UPTIME +CONNECTIONS +WORKERS$/m);

  // drain --wait in a pipe: no progress, the one line as before plus how the wait ended; the envelope with --json.
  await holdConnection(t, inst, port, 0);
  const drained = await inst.cli(['drain', '--wait', '--json']);
  assert.equal(drained.code, 0, drained.stderr);
  assert.deepEqual(Object.keys(drained.json).slice(0, 2), ['ok', 'command']);
  assert.deepEqual({ ...drained.json, remaining: typeof drained.json.remaining }, { ok: true, command: 'drain', epoch: 0, connections: 1, remaining: 'number' });
  assert.equal(drained.stderr, '');

  // Back in rotation; the reload prints as before in a pipe (the new epoch's line, then the timeline).
  const reload = await inst.cli(['reload']);
  assert.equal(reload.code, 0, reload.stderr);
  assert.match(reload.stdout, /^epoch 1 is active \(pid \d+\)\n/);
  assert.doesNotMatch(reload.stdout + reload.stderr, /\x1b|\r/);

  // drain --wait on a terminal: the progress line while the connection is open, then erased.
  await holdConnection(t, inst, port, 1);
  const drainTty = await onTerminal(inst, ['drain', '--wait']);
  assert.equal(drainTty.code, 0);
  assert.match(drainTty.out, /\r\x1b\[Kdraining epoch 1 \d+\.\ds · epoch 1 draining: 1 conn, \d+\.\ds left/);
  const afterProgress = drainTty.out.slice(drainTty.out.lastIndexOf(REDRAW) + REDRAW.length);
  assert.match(afterProgress, /^epoch 1 is out of rotation; 1 connection\(s\) draining\nepoch 1( drained: no connection left|: \d+ connection\(s\) still open at the drain deadline)\n$/);

  // stop on a terminal, with --no-color: the final line as in a pipe, no colour.
  const stop = await onTerminal(inst, ['stop', '--no-color']);
  assert.equal(stop.code, 0);
  assert.doesNotMatch(stop.out, SGR);
  assert.match(stop.out, /proxyctl: stopped \(supervisor pid \d+\)\n$/);
});
