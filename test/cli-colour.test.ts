/** The colour rule (src/cli/colour.ts) and the progress line (src/cli/progress.ts), as tables over fake streams. */
// biome-ignore-all lint/suspicious/noControlCharactersInRegex: the regexes match ANSI escapes, which start with ESC
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { colourLevel, paintFor } from '../src/cli/colour.js';
import type { ClusterView, HostView } from '../src/clusters/types.js';
import { PLAIN } from '../src/cli/paint.js';
import { progressOn, progressText } from '../src/cli/progress.js';
import { formatClusters } from '../src/cli/render-clusters.js';
import { formatReload, formatStatus } from '../src/cli/render-control.js';

const TTY = { isTTY: true, getColorDepth: () => 8 };
const PIPE = { isTTY: false };

test('colourLevel: --no-color, then NO_COLOR, then FORCE_COLOR, then TTY and TERM', () => {
  const rows: [typeof TTY | typeof PIPE, NodeJS.ProcessEnv, boolean, number][] = [
    [TTY, {}, false, 2],
    [TTY, { TERM: 'xterm' }, true, 0],
    [TTY, { NO_COLOR: '1' }, false, 0],
    [TTY, { NO_COLOR: '' }, false, 2],
    [TTY, { NO_COLOR: '1', FORCE_COLOR: '3' }, false, 0],
    [TTY, { TERM: 'dumb' }, false, 0],
    [TTY, { TERM: 'dumb', FORCE_COLOR: '1' }, false, 1],
    [TTY, { FORCE_COLOR: '0' }, false, 0],
    [TTY, { FORCE_COLOR: 'false' }, false, 0],
    [PIPE, {}, false, 0],
    [PIPE, { FORCE_COLOR: '' }, false, 1],
    [PIPE, { FORCE_COLOR: 'true' }, false, 1],
    [PIPE, { FORCE_COLOR: '3' }, false, 3],
    [PIPE, { FORCE_COLOR: '9' }, false, 3],
    [PIPE, { FORCE_COLOR: 'yes' }, false, 0],
    [PIPE, { FORCE_COLOR: '2' }, true, 0],
    [{ isTTY: true, getColorDepth: () => 24 }, {}, false, 3],
    [{ isTTY: true, getColorDepth: () => 1 }, {}, false, 1],
  ];
  for (const [stream, env, flag, level] of rows) assert.equal(colourLevel(stream, env, flag), level, `${JSON.stringify(env)} tty=${stream.isTTY} --no-color=${flag}`);
});

test('the renderers print the same bytes with PLAIN as before colour; with colour only SGR escapes are added', async () => {
  const status = {
    supervisor: { pid: 1, baseId: 0, uptimeMs: 1000, configPath: '/c.yaml', reloading: false },
    epochs: [
      { epoch: 2, pid: 20, state: 'active' as const, uptimeMs: 5000, connections: 3, workers: 1 },
      { epoch: 1, pid: 10, state: 'draining' as const, uptimeMs: 9000, connections: 1, workers: 1, drainLeftMs: 700 },
    ],
    standby: null,
  };
  const plain = formatStatus(status, PLAIN);
  assert.deepEqual(plain.slice(2), ['EPOCH PID     STATE     UPTIME   CONNECTIONS WORKERS', '2     20      active    5s       3           1', '1     10      draining  9s       1           1', 'standby: none']);
  const coloured = formatStatus(status, await paintFor(1));
  assert.notDeepEqual(coloured, plain);
  assert.deepEqual(coloured.map((l) => l.replace(/\x1b\[[0-9;]*m/g, '')), plain);
  assert.match(coloured[4]!, /\x1b\[33mdraining\x1b\[39m/);

  const host: HostView = { address: '127.0.0.1:1', weight: 1, locality: null, metadata: null, health: 'healthy', flags: [], activeRequests: 0, outlier: null, since: 0 };
  const clusters: ClusterView[] = [{ name: 'app', discovery: 'static', lb: 'roundRobin', healthy: 1, degraded: 0, panic: false, hosts: [host, { ...host, address: '127.0.0.1:22', health: 'unhealthy' }] }];
  const table = formatClusters(clusters, PLAIN);
  const paintedTable = formatClusters(clusters, await paintFor(1));
  assert.deepEqual(paintedTable.map((l) => l.replace(/\x1b\[[0-9;]*m/g, '')), table);
  assert.match(paintedTable[2]!, /\x1b\[32mhealthy\x1b\[39m/);
  assert.match(paintedTable[3]!, /\x1b\[31munhealthy\x1b\[39m/);

  const reload = { epoch: 5, pid: 9, configPath: '/c.yaml', coalesced: false, timeline: [{ event: 'spawned', atMs: 0, detail: 'epoch 5 pid 9' }, { event: 'ready', atMs: 42 }] };
  assert.deepEqual(formatReload(reload, PLAIN), ['epoch 5 is active (pid 9)', '      0 ms  spawned             epoch 5 pid 9', '     42 ms  ready']);
  const paintedReload = formatReload(reload, await paintFor(1));
  assert.deepEqual(paintedReload.map((l) => l.replace(/\x1b\[[0-9;]*m/g, '')), formatReload(reload, PLAIN));
  assert.equal(paintedReload[2], '\x1b[1m     42 ms\x1b[22m  \x1b[36mready\x1b[39m', 'the last time is the total, bold');
});

test('progressOn: a line redrawn in place on a terminal, erased at the end; nothing elsewhere', () => {
  const written: string[] = [];
  const tty = { isTTY: true, columns: 30, write: (s: string) => written.push(s) };
  assert.equal(progressOn(tty, {}, true), null, '--json');
  assert.equal(progressOn(tty, { TERM: 'dumb' }, false), null);
  assert.equal(progressOn({ ...tty, isTTY: false }, {}, false), null);
  const p = progressOn(tty, { NO_COLOR: '1' }, false)!;
  p.clear();
  assert.deepEqual(written, [], 'nothing to erase');
  p.update('short');
  p.update('x'.repeat(40));
  p.clear();
  assert.deepEqual(written, ['\r\x1b[Kshort', `\r\x1b[K${'x'.repeat(28)}…`, '\r\x1b[K']);
  const text = progressText('stopping', 1500, [
    { epoch: 3, pid: 1, state: 'draining', uptimeMs: 0, connections: 12, workers: 1, drainLeftMs: 28_000 },
    { epoch: 2, pid: 1, state: 'exited', uptimeMs: 0, connections: 0, workers: 1 },
    { epoch: 4, pid: 1, state: 'active', uptimeMs: 0, connections: null, workers: 1 },
  ]);
  assert.equal(text, 'stopping 1.5s · epoch 3 draining: 12 conns, 28.0s left · epoch 4 active: ? conns');
});
