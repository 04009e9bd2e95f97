/**
 * The data plane one worker thread runs: its listeners, their connections, the upstream pools,
 * the coarse clock, and drain. See types.ts for the contracts and DESIGN.md for the picture.
 *
 *   const plane = new DataPlane({ stats });
 *   plane.applySnapshot(buildSnapshot(config, stats));   // or plane.applyConfig(config)
 *   plane.addListener('web', server);                    // a net.Server listening on an inherited fd
 *   …
 *   plane.startDrain({ strategy, drainTimeMs, deadlineAt });
 *   plane.stopAccepting();
 *   await plane.whenIdle();                              // or at the deadline: plane.closeAll('deadline')
 */
import type { Server } from 'node:net';
import type { ProxyConfig } from '../config/types.js';
import type { StatsStore } from '../shm/types.js';
import { ListenerRuntime, type ListenerHost } from './listener.js';
import { roundRobin } from './lb/round-robin.js';
import { buildSnapshot } from './snapshot.js';
import type { ConfigSnapshot, DataPlaneApi, DataPlaneOptions, DrainRequest, HttpTimeouts, ProxyLogger } from './types.js';
import { PoolRegistry, type ClusterRuntime } from './upstream/cluster.js';

export const DEFAULT_TIMEOUTS: HttpTimeouts = Object.freeze({
  headerReadMs: 60_000,
  idleMs: 60_000,
  upstreamResponseMs: 15_000,
  upstreamIdleMs: 60_000,
});

/** Coarse clock period. Timeouts are checked per tick: one interval per plane instead of one timer per connection. */
export const TICK_MS = 250;

/** Not an EventEmitter: `addListener(name, server)` is this class's own verb. Use `whenIdle()`. */
export class DataPlane implements DataPlaneApi, ListenerHost {
  readonly clock = { now: Date.now() };
  readonly timeouts: HttpTimeouts;
  private readonly stats: StatsStore;
  private readonly log: ProxyLogger;
  private readonly pools: PoolRegistry;
  private snapshot: ConfigSnapshot | null = null;
  private clusters = new Map<string, ClusterRuntime>();
  private readonly listeners = new Map<string, ListenerRuntime>();
  private readonly ticker: NodeJS.Timeout;
  private drainReq: DrainRequest | null = null;
  private deadlineTimer: NodeJS.Timeout | null = null;
  private winding = false;
  private idleWaiters: Array<() => void> = [];

  constructor(opts: DataPlaneOptions) {
    this.stats = opts.stats;
    this.log = opts.log ?? {};
    this.timeouts = Object.freeze({ ...DEFAULT_TIMEOUTS, ...opts.timeouts });
    this.pools = new PoolRegistry(opts.maxIdlePerEndpoint ?? 64);
    this.ticker = setInterval(this.tick, Math.min(TICK_MS, this.timeouts.headerReadMs, this.timeouts.idleMs));
    this.ticker.unref();
  }

  /**
   * Swaps in a new snapshot (RCU). Live connections are not touched: each HTTP connection reads
   * its listener's routes when a request starts, so an exchange in flight finishes on the old
   * routes and the next request on the same connection uses the new ones. TCP connections keep
   * the upstream they have. Pools of endpoints that stay are kept; others are closed once idle.
   */
  applySnapshot(snapshot: ConfigSnapshot): void {
    const clusters = this.pools.build(snapshot.clusters.values(), roundRobin);
    for (const [name, l] of this.listeners) {
      const next = snapshot.listeners.get(name);
      if (next === undefined) {
        this.log.warn?.('listener not in the new snapshot; it keeps its previous routes', { listener: name });
        continue;
      }
      l.bind(next, clusters);
    }
    this.clusters = clusters;
    this.snapshot = snapshot;
  }

  /** Convenience: `applySnapshot(buildSnapshot(config, stats))` in this thread. */
  applyConfig(config: ProxyConfig): void {
    this.applySnapshot(buildSnapshot(config, this.stats));
  }

  /**
   * Starts serving the listener `name` of the current snapshot on `server`, a `net.Server`
   * the caller created and made listen (on an inherited fd, or a port in tests). The plane
   * attaches its own 'connection' handler; `stopAccepting` closes this handle only.
   */
  addListener(name: string, server: Server): void {
    const l = this.snapshot?.listeners.get(name);
    if (l === undefined) throw new Error(`no listener ${name} in the current snapshot`);
    if (this.listeners.has(name)) throw new Error(`listener ${name} already added`);
    this.listeners.set(name, new ListenerRuntime(name, server, this, l, this.clusters));
  }

  /**
   * HTTP: every connection gets a moment in [now, now + drainTimeMs] (`immediate`: now) after
   * which its next response carries `Connection: close` and it is ended once that response is
   * written. Idle keep-alive connections are left alone until `deadlineAt`, then ended.
   * TCP: nothing happens until the caller's `closeAll` at the deadline.
   */
  startDrain(req: DrainRequest): void {
    if (this.drainReq !== null) return;
    this.drainReq = req;
    this.winding = true;
    const now = Date.now();
    const spread = req.strategy === 'gradual' ? Math.max(0, req.drainTimeMs) : 0;
    for (const l of this.listeners.values()) {
      // Random points: evenly spread in expectation and no coordination between workers needed.
      for (const c of l.conns) c.drain(now + Math.random() * spread);
    }
    this.deadlineTimer = setTimeout(this.onDeadline, Math.max(0, req.deadlineAt - now));
    this.deadlineTimer.unref();
    this.log.info?.('drain started', { strategy: req.strategy, drainTimeMs: req.drainTimeMs, connections: this.connections() });
    this.checkIdle();
  }

  /** Closes every listening handle this plane was given; open connections go on. */
  stopAccepting(): void {
    for (const l of this.listeners.values()) l.stopAccepting();
    this.winding = true;
    this.checkIdle();
  }

  connections(): number {
    let n = 0;
    for (const l of this.listeners.values()) n += l.conns.size;
    return n;
  }

  /** Destroys every remaining connection; each counts as `downstream_cx_drain_forced`. */
  closeAll(reason: string): number {
    let n = 0;
    for (const l of this.listeners.values()) {
      const forced = l.listener.stats.cxDrainForced;
      for (const c of [...l.conns]) {
        forced.inc();
        c.destroy();
        n++;
      }
    }
    if (n > 0) this.log.info?.('connections closed by force', { reason, count: n });
    return n;
  }

  /** Resolves once connections reach 0 after `startDrain` or `stopAccepting`. */
  whenIdle(): Promise<void> {
    return new Promise((resolve) => {
      this.idleWaiters.push(resolve);
      this.checkIdle();
    });
  }

  /** Stops everything this plane started (tests, and the end of an epoch). */
  async shutdown(): Promise<void> {
    this.stopAccepting();
    this.closeAll('shutdown');
    this.pools.closeAll();
    clearInterval(this.ticker);
    if (this.deadlineTimer !== null) clearTimeout(this.deadlineTimer);
    await Promise.all([...this.listeners.values()].map((l) => new Promise<void>((r) => (l.server.listening ? l.server.close(() => r()) : r()))));
  }

  // ---- ListenerHost ---------------------------------------------------------------------

  drainAtForNew(): number {
    return this.drainReq === null ? Infinity : Date.now();
  }

  drainDeadline(): number {
    return this.drainReq === null ? Infinity : this.drainReq.deadlineAt;
  }

  connectionClosed(): void {
    this.checkIdle();
  }

  private checkIdle(): void {
    if (!this.winding || this.connections() !== 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private readonly onDeadline = (): void => {
    this.deadlineTimer = null;
    let n = 0;
    for (const l of this.listeners.values()) for (const c of [...l.conns]) if (c.closeIfIdle()) n++;
    this.log.info?.('drain deadline: idle connections closed', { count: n, remaining: this.connections() - n });
  };

  private readonly tick = (): void => {
    const now = Date.now();
    this.clock.now = now;
    for (const l of this.listeners.values()) for (const c of l.conns) c.onTick(now);
    this.pools.sweep(now, this.timeouts.upstreamIdleMs);
  };
}
