/**
 * File descriptors run out: `proxyctl start` under `prlimit --nofile=256:256`, 1,000 clients
 * at once. With the default cap (derived from RLIMIT_NOFILE) the epoch never reaches EMFILE:
 * it stops accepting and the rest wait in the accept queue, so every client is served. With a
 * cap set far past what the fds allow, accepts and upstream connects do hit EMFILE: every
 * connection the proxy accepted still gets a response (a 503, counted, when its upstream
 * connect found no fd), and the epoch neither crashes nor spins. Either way a request right
 * after the storm is served, without a restart.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { helloBackend, RawClient } from './fixtures/proxy-util.js';
import { freePort, readStat, startProxyctl, type Instance } from './fixtures/supervisor-util.js';

const CLIENTS = 1_000;
const TICKS_PER_S = 100; // USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s on Linux

function yaml(port: number, backend: number, limits: string, cluster: string): string {
  return [
    'workers: 1',
    'standby: false',
    ...(limits === '' ? [] : [limits]),
    'listeners:',
    '  - name: web',
    `    address: 127.0.0.1:${port}`,
    '    protocol: http',
    '    routes:',
    '      - { match: { prefix: / }, cluster: app }',
    'clusters:',
    `  - { name: app, endpoints: ["127.0.0.1:${backend}"]${cluster} }`,
    'drain: { strategy: immediate, drainTime: 100ms, parentShutdownTime: 1s }',
    '',
  ].join('\n');
}

/** utime + stime of `pid`, in seconds. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S;
}

/** `n` clients at once, each one request with `connection: close`: the status each got, or null (closed without one). */
function storm(port: number, n: number): Promise<(number | null)[]> {
  return Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<number | null>((resolve) => {
          const s = connect(port, '127.0.0.1');
          let got = '';
          s.on('connect', () => s.write('GET /storm HTTP/1.1\r\nhost: test\r\nconnection: close\r\n\r\n'));
          s.on('data', (d: Buffer) => {
            if (got.length < 16) got += d.toString('latin1');
          });
          s.on('error', () => {});
          s.on('close', () => {
            const m = /^HTTP\/1\.1 (\d{3}) /.exec(got);
            resolve(m === null ? null : Number(m[1]));
          });
        }),
    ),
  );
}

/** The epoch serves a new request at once after the storm: at most a retry or two. */
async function servesAgain(t: TestContext, port: number): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      const c = await RawClient.open(t, port);
      c.get('/after');
      const r = await c.response();
      c.socket.destroy();
      assert.equal(r.status, 200);
      return;
    } catch (err: unknown) {
      if (i === 2) throw err;
    }
  }
}

async function start(t: TestContext, limits: string, cluster = ''): Promise<{ inst: Instance; port: number; epoch: number }> {
  const backend = await helloBackend(t);
  const port = await freePort();
  const inst = await startProxyctl(t, yaml(port, backend.port, limits, cluster), { wrapper: ['prlimit', '--nofile=256:256', '--'] });
  const epoch = inst.epochPids()[0];
  assert.ok(epoch !== undefined);
  return { inst, port, epoch };
}

// Two epochs of their own: the storms run side by side (each epoch's CPU is read on its own).
describe('fd exhaustion', { concurrency: true }, () => {
  test('under nofile 256 with the default cap, 1,000 clients at once all wait their turn and are served', async (t) => {
    const { inst, port, epoch } = await start(t, '');
    const stat = (name: string): number => Number(readStat(inst, name));
    const cpu0 = cpuSeconds(epoch);
    const statuses = await storm(port, CLIENTS);
    const cpu = cpuSeconds(epoch) - cpu0;
    assert.deepEqual(statuses.filter((s) => s !== 200), [], 'every client got a 200');
    assert.equal(stat('listener.web.downstream_cx_total'), CLIENTS);
    assert.ok(stat('listener.web.downstream_cx_limit_pauses') > 0, 'the cap was reached');
    assert.equal(stat('listener.web.downstream_cx_overflow'), 0);
    assert.equal(stat('cluster.app.upstream_cx_connect_fd_exhausted'), 0, 'the cap kept every upstream connect within the fds');
    assert.ok(cpu < 30, `the storm cost ${cpu}s of CPU`);
    await servesAgain(t, port);
  });

  test('under nofile 256 with a cap past the fds, EMFILE: what is accepted is answered, refusals are counted, no spin', async (t) => {
    // Outlier detection that would eject the host after 3 failures in a row: an fd the proxy
    // lacks is not the host's failure, so it stays in.
    const { inst, port, epoch } = await start(t, 'limits: { maxConnections: 100000 }', ', outlierDetection: { consecutive5xx: 3, consecutiveGatewayFailure: 3, maxEjectionPercent: 100 }');
    const stat = (name: string): number => Number(readStat(inst, name));
    const cpu0 = cpuSeconds(epoch);
    const statuses = await storm(port, CLIENTS);
    const cpu = cpuSeconds(epoch) - cpu0;
    const answered = statuses.filter((s) => s !== null);
    // libuv accepts and closes what it cannot take (its EMFILE reserve fd): those get no response.
    assert.equal(answered.length, stat('listener.web.downstream_cx_total'), 'every accepted connection got a response');
    assert.deepEqual([...new Set(answered)].filter((s) => s !== 200 && s !== 503), [], 'only 200 or 503');
    assert.equal(answered.filter((s) => s === 503).length, stat('cluster.app.upstream_cx_connect_fd_exhausted'), 'each 503 is a counted upstream connect that found no fd');
    assert.equal(stat('cluster.app.upstream_rq_503'), stat('cluster.app.upstream_cx_connect_fd_exhausted'));
    assert.equal(stat('cluster.app.outlier_detection.ejections_enforced_total') + stat('cluster.app.outlier_detection.ejections_overflow'), 0, 'fd exhaustion ejected no host');
    assert.ok(cpu < 30, `the storm cost ${cpu}s of CPU`);
    // Idle after the storm: an accept loop spinning on EMFILE would burn the whole second.
    const idle0 = cpuSeconds(epoch);
    await new Promise((r) => setTimeout(r, 1_000));
    assert.ok(cpuSeconds(epoch) - idle0 < 0.5, 'idle after the storm');
    await servesAgain(t, port);
    assert.ok(inst.entries().some((e) => e.level === 'warn' && typeof e.fdBound === 'number'), 'the cap past the fds is warned about');
  });
});
