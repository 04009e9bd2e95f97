/**
 * What both pools share: the cluster's connection budget and the queue of requests waiting
 * for a connection (HTTP/1.1) or a stream (HTTP/2). Which connection a request gets is the
 * subclass's `take`; this file only counts and queues.
 *
 * Limits follow Envoy's circuit breakers, per worker: `maxConnections` across the cluster's
 * endpoints, except that an endpoint the load balancer picked may always open its first
 * connection, so a request can never wait on a pool that has nothing to give it; and
 * `maxPendingRequests` across the cluster's queues.
 */
import type { ClusterStats, EndpointSnapshot } from '../types.js';
import type { ClusterBudget, PoolWaiter, UpstreamConn } from './pool-types.js';

export abstract class PoolBase {
  /** Set when the endpoint left the config: what is released is closed, not kept. */
  closed = false;
  /** Connections (HTTP/2: sessions) of this pool, open or opening. */
  protected open = 0;
  protected readonly waiters: PoolWaiter[] = [];

  constructor(
    readonly endpoint: EndpointSnapshot,
    readonly stats: ClusterStats,
    protected readonly budget: ClusterBudget,
  ) {}

  abstract take(): UpstreamConn | null;

  /** Whether a new connection may be opened now. */
  protected canOpen(): boolean {
    return this.open === 0 || this.budget.connections < this.budget.limits.maxConnections;
  }

  protected opened(): void {
    this.open++;
    this.budget.connections++;
  }

  /** A connection of this pool closed: its place in the budget is free, so a waiter may get one. */
  protected closedOne(): void {
    this.open--;
    this.budget.connections--;
    if (this.waiters.length > 0) this.serveWaiters();
  }

  enqueue(w: PoolWaiter): boolean {
    const b = this.budget;
    this.stats.cxOverflow.inc(); // `take` said no: the connection limit stood in the way
    if (b.pending >= b.limits.maxPendingRequests) return false;
    b.pending++;
    this.stats.rqPendingTotal.inc();
    this.stats.rqPendingActive.inc();
    this.waiters.push(w);
    return true;
  }

  dequeue(w: PoolWaiter): void {
    const i = this.waiters.indexOf(w);
    if (i < 0) return;
    this.waiters.splice(i, 1);
    this.left();
  }

  /** Hands out what `take` can give now, first come first served. */
  protected serveWaiters(): void {
    while (this.waiters.length > 0) {
      const c = this.take();
      if (c === null) return;
      this.nextWaiter().upstreamReady(c);
    }
  }

  /** The first waiter, out of the queue (call only with waiters). */
  protected nextWaiter(): PoolWaiter {
    const w = this.waiters.shift() as PoolWaiter;
    this.left();
    return w;
  }

  private left(): void {
    this.budget.pending--;
    this.stats.rqPendingActive.dec();
  }
}
