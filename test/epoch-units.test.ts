/**
 * The epoch's pure parts without processes: which worker gets which socket (socket-plan.ts),
 * and the drain manager's state machine against a fake set of workers (src/drain).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planSockets } from '../src/epoch/process/socket-plan.js';
import { DrainManager, drainSpreadMs } from '../src/drain/drain-manager.js';
import type { DrainTarget } from '../src/drain/types.js';
import type { DrainRequest } from '../src/proxy/types.js';
import type { ListenSocketDescriptor } from '../src/uds-rpc/index.js';
import { silentLogger } from '../src/log.js';
import { delay } from './fixtures/proxy-util.js';

function descriptors(list: Array<[ListenSocketDescriptor['kind'], string, number]>): ListenSocketDescriptor[] {
  return list.map(([kind, name, slot], fdIndex) => ({ kind, name, slot, address: '127.0.0.1:1', fdIndex }));
}

test('socket plan: slots round-robin over workers in slot order, every fd used, strays and missing reported', () => {
  const sockets = descriptors([
    ['listener', 'web', 2],
    ['listener', 'web', 0],
    ['admin', 'admin', 0],
    ['listener', 'web', 1],
    ['listener', 'ghost', 0],
    ['listener', 'raw', 0],
    ['admin', 'admin', 0],
  ]);
  const fds = [100, 101, 102, 103, 104, 105, 106];
  const plan = planSockets(sockets, fds, ['web', 'raw', 'db'], 2);
  assert.deepEqual(plan.perWorker, [
    [{ listener: 'web', slot: 0, fd: 101 }, { listener: 'web', slot: 2, fd: 100 }, { listener: 'raw', slot: 0, fd: 105 }],
    [{ listener: 'web', slot: 1, fd: 103 }],
  ]);
  assert.equal(plan.admin, 102);
  assert.deepEqual(plan.unused.map((u) => u.fd).sort(), [104, 106]);
  assert.deepEqual(plan.missing, ['db']);
  // Fewer slots than workers: some workers get nothing for that listener.
  assert.deepEqual(planSockets(descriptors([['listener', 'web', 0]]), [7], ['web'], 3).perWorker, [[{ listener: 'web', slot: 0, fd: 7 }], [], []]);
  assert.throws(() => planSockets([], [], [], 0), RangeError);
});

class FakeWorkers implements DrainTarget {
  drains: DrainRequest[] = [];
  hurries: number[] = [];
  closed: string[] = [];
  #idle: Array<() => void> = [];
  drain(req: DrainRequest): void {
    this.drains.push(req);
  }
  hurry(graceMs: number): void {
    this.hurries.push(graceMs);
  }
  async closeAll(reason: string): Promise<number> {
    this.closed.push(reason);
    return 1;
  }
  whenIdle(): Promise<void> {
    return new Promise((resolve) => this.#idle.push(resolve));
  }
  becomeIdle(): void {
    for (const resolve of this.#idle.splice(0)) resolve();
  }
}

function manager(): { m: DrainManager; w: FakeWorkers; exits: Array<[number, string]>; adminClosed: () => boolean; started: () => number } {
  const w = new FakeWorkers();
  const exits: Array<[number, string]> = [];
  let adminClosed = false;
  let started = 0;
  const m = new DrainManager(w, { drainStarted: () => void started++, closeAdmin: () => (adminClosed = true), exit: (code, reason) => exits.push([code, reason]) }, silentLogger);
  return { m, w, exits, adminClosed: () => adminClosed, started: () => started };
}

test('drain manager: a drain that stays up, then one with exit; deadlines only move sooner; exit once idle', async () => {
  const { m, w, exits, adminClosed, started } = manager();
  assert.equal(started(), 0);
  m.drain({ strategy: 'gradual', drainTimeMs: 1000, parentShutdownTimeMs: 2000, exit: false });
  assert.equal(m.draining, true);
  assert.equal(started(), 1, 'the epoch is told once that it stopped being the active one');
  assert.equal(m.exitMode, false);
  assert.equal(adminClosed(), false);
  m.drain({ strategy: 'gradual', drainTimeMs: 1000, parentShutdownTimeMs: 2000, exit: true });
  assert.equal(m.exitMode, true);
  assert.equal(adminClosed(), true);
  assert.equal(w.drains.length, 2, 'each drain is passed on; the planes keep the sooner deadline');
  // Drain points leave the end of the window free, so busy connections close before the deadline.
  assert.equal(w.drains[0]?.drainTimeMs, 750);
  assert.equal(w.drains[0]?.forceAtDeadline, true);
  assert.equal(drainSpreadMs(30_000), 29_000);
  assert.equal(drainSpreadMs(0), 0);
  w.becomeIdle();
  await delay(5);
  assert.deepEqual(exits, [[0, 'drained']]);
  m.drain({ strategy: 'immediate', drainTimeMs: 0, parentShutdownTimeMs: 0, exit: true });
  m.terminate();
  await delay(5);
  assert.equal(exits.length, 1, 'nothing starts after the exit is decided');
  assert.equal(started(), 1, 'a second drain and a terminate do not tell it again');
});

test('drain manager: the parent shutdown deadline closes what is left and exits; a sooner one wins', async () => {
  const { m, w, exits } = manager();
  m.drain({ strategy: 'gradual', drainTimeMs: 10, parentShutdownTimeMs: 5000, exit: true });
  m.drain({ strategy: 'gradual', drainTimeMs: 10, parentShutdownTimeMs: 60, exit: true });
  await delay(120);
  assert.deepEqual(w.closed, ['parent-shutdown']);
  assert.deepEqual(exits, [[0, 'parent-shutdown']]);
});

test('drain manager: hurry without a drain, and terminate', async () => {
  const h = manager();
  h.m.hurry(20);
  assert.deepEqual(h.w.hurries, [20]);
  assert.equal(h.m.exitMode, true);
  h.w.becomeIdle();
  await delay(5);
  assert.deepEqual(h.exits, [[0, 'drained']]);

  const t = manager();
  t.m.terminate();
  await delay(5);
  assert.deepEqual(t.w.closed, ['terminate']);
  assert.deepEqual(t.exits, [[0, 'terminate']]);
  assert.equal(t.adminClosed(), true);
});
