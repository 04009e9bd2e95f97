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
 *
 * An epoch's drain manager (src/drain) drives these from the epoch's main thread; the worker
 * thread calls them on its own plane.
 */
import type { Server } from 'node:net';
import type { ProxyConfig } from '../config/types.js';
import type { StatsStore } from '../shm/types.js';
import { ListenerRuntime, type ListenerHost } from './listener.js';
import { buildSnapshot, type SnapshotOptions } from './snapshot.js';
import type { ConfigSnapshot, DataPlaneApi, DataPlaneOptions, DrainRequest, HttpTimeouts, ProxyLogger } from './types.js';
import type { ClusterRuntime } from './upstream/cluster.js';
import { PoolRegistry } from './upstream/registry.js';
import type { ClusterMembership } from '../clusters/types.js';
import { DEFAULT_TIMEOUTS } from './timeouts.js';
import { ConnectionLimits } from './limits/gate.js';
import { listenerLimits, type ListenerLimits } from './limits/index.js';
import type { ConnectionLimitsInit, ListenSource, Pausable } from './limits/types.js';

export { DEFAULT_TIMEOUTS } from './timeouts.js';

/** Coarse clock period. Timeouts are checked per tick: one interval per plane instead of one timer per connection. */
export const TICK_MS = 250;

/**
 * `hurry` closes idle keep-alive connections this long after it marked every connection to
 * close (at most a quarter of the grace). A busy client's next request may already be on the
 * wire when its connection looks idle; in this window it gets a response with
 * `Connection: close` instead of a close that races it.
 */
export const HURRY_SETTLE_MS = 100;

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
  private hurryTimer: NodeJS.Timeout | null = null;
  private hurryAt = Infinity;
  private settleTimer: NodeJS.Timeout | null = null;
  private accepting = true;
  private winding = false;
  private idleWaiters: Array<() => void> = [];
  private limits: ConnectionLimits | null = null;

  constructor(opts: DataPlaneOptions) {
    this.stats = opts.stats;
    this.log = opts.log ?? {};
    this.timeouts = Object.freeze({ ...DEFAULT_TIMEOUTS, ...opts.timeouts });
    const onOutlier = opts.onOutlier;
    this.pools = new PoolRegistry({ outlier: onOutlier === undefined ? noOutlierSink : onOutlier });
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
    const clusters = this.pools.build(snapshot.clusters.values(), Date.now());
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

  /** Convenience: `applySnapshot(buildSnapshot(config, stats, opts))` in this thread. */
  applyConfig(config: ProxyConfig, opts?: SnapshotOptions): void {
    this.applySnapshot(buildSnapshot(config, this.stats, opts));
  }

  /**
   * A cluster's new members (RCU: between events, so no request sees half of it). One older
   * than what the cluster has, or for a cluster this plane does not have, changes nothing.
   */
  applyMembership(m: ClusterMembership): void {
    const rt = this.clusters.get(m.cluster);
    if (rt === undefined || m.version <= rt.version) return;
    this.pools.place(rt, m, Date.now());
  }

  /**
   * Starts serving the listener `name` of the current snapshot on `server`, a `net.Server`
   * the caller created and made listen (on an inherited fd, or a port in tests). The plane
   * attaches its own 'connection' handler; `stopAccepting` closes this handle only. Calling it
   * again for the same name adds one more socket to that listener: a worker of an epoch with
   * more SO_REUSEPORT slots than workers accepts on several. After `stopAccepting` the handle
   * is closed at once. `source` (the plane owns it from here) makes the handle again after a
   * pause at a connection cap; without one the handle is never paused.
   */
  addListener(name: string, server: Server, source: ListenSource | null = null): void {
    const l = this.snapshot?.listeners.get(name);
    // No ProxyctlError code fits a caller's bug (a name its own config does not have).
    if (l === undefined) throw new Error(`no listener ${name} in the current snapshot`);
    const existing = this.listeners.get(name);
    if (existing !== undefined) existing.addServer(server, source);
    else if (!this.accepting) {
      server.close();
      source?.close();
    } else this.listeners.set(name, new ListenerRuntime(name, server, this, l, this.clusters, source));
  }

  /**
   * The epoch's connection caps and the counts its workers share (limits/types.ts); set before
   * the first `addListener`. Only handles added with a `ListenSource` can be paused at a cap.
   */
  useConnectionLimits(init: ConnectionLimitsInit): void {
    this.limits = new ConnectionLimits(init);
  }

  /**
   * HTTP: every connection gets a moment in [now, now + drainTimeMs] (`immediate`: now) after
   * which its next response carries `Connection: close` and it is ended once that response is
   * written. Idle keep-alive connections are left alone until `deadlineAt`, then ended.
   * TCP: connections go on until `deadlineAt`; then, with `forceAtDeadline`, they are destroyed
   * (counted as forced), else they wait for the caller's `closeAll`.
   *
   * Called again while draining, it only brings things forward: a sooner deadline replaces the
   * current one, `immediate` makes every connection close after its next response, and
   * `forceAtDeadline` is kept once set. A repeated identical request changes nothing.
   */
  startDrain(req: DrainRequest): void {
    const now = Date.now();
    const prev = this.drainReq;
    if (prev !== null) {
      if (req.strategy === 'immediate') for (const l of this.listeners.values()) for (const c of l.conns) c.drain(now);
      const sooner = req.deadlineAt < prev.deadlineAt;
      this.drainReq = { ...prev, deadlineAt: sooner ? req.deadlineAt : prev.deadlineAt, forceAtDeadline: prev.forceAtDeadline === true || req.forceAtDeadline === true };
      if (sooner) {
        this.armDeadline(req.deadlineAt - now);
        this.log.info?.('drain deadline brought forward', { inMs: req.deadlineAt - now });
      }
      return;
    }
    this.drainReq = req;
    this.winding = true;
    const spread = req.strategy === 'gradual' ? Math.max(0, req.drainTimeMs) : 0;
    for (const l of this.listeners.values()) {
      // Random points: evenly spread in expectation and no coordination between workers needed.
      for (const c of l.conns) c.drain(now + Math.random() * spread);
    }
    this.armDeadline(req.deadlineAt - now);
    this.log.info?.('drain started', { strategy: req.strategy, drainTimeMs: req.drainTimeMs, connections: this.connections() });
    this.checkIdle();
  }

  /**
   * Hurries the drain (a newer epoch needs this one gone): every HTTP connection closes after
   * its next response, idle keep-alive connections are closed right away (after
   * HURRY_SETTLE_MS), and whatever remains after `graceMs` (TCP, slow exchanges) is closed by
   * force. Works with or without `startDrain`.
   */
  hurry(graceMs: number): void {
    const now = Date.now();
    const prev = this.drainReq;
    // A deadline of now also ends a connection whose response went out keep-alive before this.
    this.drainReq = { strategy: 'immediate', drainTimeMs: 0, deadlineAt: prev === null ? now : Math.min(prev.deadlineAt, now), forceAtDeadline: prev?.forceAtDeadline === true };
    this.winding = true;
    for (const l of this.listeners.values()) for (const c of l.conns) c.drain(now);
    if (this.settleTimer === null) {
      this.settleTimer = setTimeout(this.onHurrySettled, Math.min(Math.max(0, graceMs) / 4, HURRY_SETTLE_MS));
      this.settleTimer.unref();
    }
    const at = now + Math.max(0, graceMs);
    if (at < this.hurryAt) {
      this.hurryAt = at;
      if (this.hurryTimer !== null) clearTimeout(this.hurryTimer);
      this.hurryTimer = setTimeout(this.onHurryDeadline, at - now);
      this.hurryTimer.unref();
    }
    this.log.info?.('drain hurried', { graceMs, connections: this.connections() });
    this.checkIdle();
  }

  /** Closes every listening handle this plane was given; open connections go on. */
  stopAccepting(): void {
    this.accepting = false;
    for (const l of this.listeners.values()) l.stopAccepting();
    this.winding = true;
    this.checkIdle();
  }

  connections(): number {
    let n = 0;
    for (const l of this.listeners.values()) n += l.conns.size;
    return n;
  }

  /**
   * Destroys every remaining connection; each counts as `downstream_cx_drain_forced`, once.
   * A connection already destroyed (by an earlier closeAll, the drain deadline or itself) stays
   * in `conns` until its socket's 'close' event, which comes a loop turn later: it is skipped,
   * not counted again. The epoch's terminate is closeAll('terminate') followed at once by
   * shutdown's closeAll('shutdown'); counting those twice made test/epoch-boot.test.ts flaky.
   */
  closeAll(reason: string): number {
    let n = 0;
    for (const l of this.listeners.values()) {
      const forced = l.listener.stats.cxDrainForced;
      for (const c of [...l.conns]) {
        if (c.socket.destroyed) continue;
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
    if (this.hurryTimer !== null) clearTimeout(this.hurryTimer);
    if (this.settleTimer !== null) clearTimeout(this.settleTimer);
    const servers = [...this.listeners.values()].flatMap((l) => l.servers);
    await Promise.all(servers.map((s) => new Promise<void>((r) => (s.listening ? s.close(() => r()) : r()))));
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

  limitsFor(name: string, owner: Pausable): ListenerLimits {
    return listenerLimits(this.limits, name, owner, this.stats, this.log);
  }

  private checkIdle(): void {
    if (!this.winding || this.connections() !== 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private armDeadline(inMs: number): void {
    if (this.deadlineTimer !== null) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = setTimeout(this.onDeadline, Math.max(0, inMs));
    this.deadlineTimer.unref();
  }

  private readonly onDeadline = (): void => {
    this.deadlineTimer = null;
    const force = this.drainReq?.forceAtDeadline === true;
    let idle = 0;
    let forced = 0;
    for (const l of this.listeners.values()) {
      for (const c of [...l.conns]) {
        if (c.closeIfIdle()) idle++;
        else if (force && c.forcedAtDrainDeadline === true && !c.socket.destroyed) {
          l.listener.stats.cxDrainForced.inc();
          c.destroy();
          forced++;
        }
      }
    }
    this.log.info?.('drain deadline: idle connections closed', { count: idle, forced, remaining: this.connections() - idle - forced });
  };

  private readonly onHurrySettled = (): void => {
    this.settleTimer = null;
    let n = 0;
    for (const l of this.listeners.values()) for (const c of [...l.conns]) if (c.closeIfIdle()) n++;
    this.log.info?.('hurry: idle connections closed', { count: n, remaining: this.connections() - n });
  };

  private readonly onHurryDeadline = (): void => {
    this.hurryTimer = null;
    this.closeAll('hurry');
  };

  private readonly tick = (): void => {
    const now = Date.now();
    this.clock.now = now;
    for (const l of this.listeners.values()) {
      l.retryListen();
      for (const c of l.conns) c.onTick(now);
    }
    this.pools.sweep(now, this.timeouts.upstreamIdleMs);
    for (const c of this.clusters.values()) c.tick(now);
  };
}

function noOutlierSink(): void {}
