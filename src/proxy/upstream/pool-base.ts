/**
 * What both pools share: the cluster's connection budget and the queue of requests waiting
 * for a connection (HTTP/1.1) or a stream (HTTP/2). Which connection a request gets is the
 * subclass's `take`; this file only counts and queues.
 *
 * Limits follow Envoy's circuit breakers, for the whole epoch (the counters are shared by its
 * workers): `maxConnections` across the cluster's endpoints, except that an endpoint the load
 * balancer picked may always open its first connection in each worker, so a request can never
 * wait on a pool that has nothing to give it (the limit can be passed by at most one
 * connection per endpoint per worker); and `maxPendingRequests` across the cluster's queues.
 */
import { BudgetSlot } from '../../clusters/types.js';
import type { ClusterStats, EndpointSnapshot } from '../types.js';
import type { ClusterBudget, HostFacts, PoolWaiter, UpstreamConn } from './pool-types.js';

export abstract class PoolBase implements HostFacts {
  readonly hostKey: string;
  weight: number;
  flags: number;
  since: number;
  counters: Int32Array;

  /** Set when the endpoint left the config: what is released is closed, not kept. */
  closed = false;
  /** Connections (HTTP/2: sessions) of this pool, open or opening. */
  protected open = 0;
  protected readonly waiters: PoolWaiter[] = [];

  constructor(
    readonly endpoint: EndpointSnapshot,
    readonly stats: ClusterStats,
    protected readonly budget: ClusterBudget,
    host: Readonly<HostFacts>,
  ) {
    this.hostKey = host.hostKey;
    this.weight = host.weight;
    this.flags = host.flags;
    this.since = host.since;
    this.counters = host.counters;
  }

  /** The host's facts from the latest membership. */
  setHost(host: Readonly<HostFacts>): void {
    this.weight = host.weight;
    this.flags = host.flags;
    this.since = host.since;
    this.counters = host.counters;
  }

  abstract take(): UpstreamConn | null;

  /** Whether a new connection may be opened now. */
  protected canOpen(): boolean {
    return this.open === 0 || Atomics.load(this.budget.counters, BudgetSlot.CONNECTIONS) < this.budget.limits.maxConnections;
  }

  protected opened(): void {
    this.open++;
    Atomics.add(this.budget.counters, BudgetSlot.CONNECTIONS, 1);
  }

  /** A connection of this pool closed: its place in the budget is free, so a waiter may get one. */
  protected closedOne(): void {
    this.open--;
    Atomics.sub(this.budget.counters, BudgetSlot.CONNECTIONS, 1);
    if (this.waiters.length > 0) this.serveWaiters();
  }

  enqueue(w: PoolWaiter): boolean {
    const b = this.budget;
    this.stats.cxOverflow.inc(); // `take` said no: the connection limit stood in the way
    if (Atomics.load(b.counters, BudgetSlot.PENDING) >= b.limits.maxPendingRequests) return false;
    Atomics.add(b.counters, BudgetSlot.PENDING, 1);
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
    Atomics.sub(this.budget.counters, BudgetSlot.PENDING, 1);
    this.stats.rqPendingActive.dec();
  }
}
