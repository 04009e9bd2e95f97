/**
 * Pool mechanics for one upstream endpoint in one worker: a LIFO stack of idle keep-alive
 * connections. Which endpoint to use is the load balancer's business; what a connection speaks
 * is its own. LIFO keeps the most recently used (warmest, least likely to have been closed by
 * the peer) socket on top.
 */
import type { ClusterStats, EndpointSnapshot } from '../types.js';

/** What the pool needs from a connection it keeps. */
export interface Pooled {
  /** False once the socket is closing or closed; such a connection is never handed out. */
  readonly alive: boolean;
  /** Coarse-clock ms when it went idle; set by the pool. */
  idleSince: number;
  close(): void;
}

export class EndpointPool<T extends Pooled> {
  private readonly idle: T[] = [];
  /** Set when the endpoint left the config: released connections are closed, not kept. */
  closed = false;

  constructor(
    readonly endpoint: EndpointSnapshot,
    readonly stats: ClusterStats,
    private readonly maxIdle: number,
  ) {}

  /** The most recently released live connection, or null: the caller then opens a new one. */
  takeIdle(): T | null {
    while (this.idle.length > 0) {
      const c = this.idle.pop() as T;
      if (c.alive) return c;
    }
    return null;
  }

  /** Keeps `c` for reuse if it is alive and there is room; closes it otherwise. */
  release(c: T, now: number): void {
    if (this.closed || !c.alive || this.idle.length >= this.maxIdle) {
      c.close();
      return;
    }
    c.idleSince = now;
    this.idle.push(c);
  }

  /** Drops `c` from the idle list (it closed while idle). */
  forget(c: T): void {
    const i = this.idle.indexOf(c);
    if (i >= 0) this.idle.splice(i, 1);
  }

  idleCount(): number {
    return this.idle.length;
  }

  /** Closes connections idle since before `now - idleMs` (oldest sit at the bottom). */
  sweep(now: number, idleMs: number): void {
    while (this.idle.length > 0 && (this.idle[0] as T).idleSince + idleMs <= now) (this.idle.shift() as T).close();
  }

  close(): void {
    this.closed = true;
    for (const c of this.idle.splice(0)) c.close();
  }
}
