/**
 * The HTTP/2 pool of one upstream endpoint in one worker: a few sessions, each carrying many
 * streams. A request gets a stream on the oldest session with room (below the peer's
 * SETTINGS_MAX_CONCURRENT_STREAMS, below `maxRequestsPerConnection`, no GOAWAY), so load packs
 * onto few connections; else a new session while the cluster's budget allows (pool-base.ts);
 * else it waits for a stream to end or a session to close.
 *
 * A session that reached `maxRequestsPerConnection`, got a GOAWAY or belongs to an endpoint
 * that left the config closes once its last stream ends; an idle one closes after the
 * plane's upstream idle timeout, as HTTP/1.1 connections do.
 */
import type { ClusterStats, EndpointSnapshot } from '../types.js';
import { DEFAULT_PEER_STREAMS, H2UpstreamSession, type SessionHost } from '../http2/upstream-session.js';
import { PoolBase } from './pool-base.js';
import type { ClusterBudget, HostFacts, UpstreamConn } from './pool-types.js';

export class Http2Pool extends PoolBase implements SessionHost {
  private readonly sessions: H2UpstreamSession[] = [];
  peerStreams = DEFAULT_PEER_STREAMS;

  constructor(endpoint: EndpointSnapshot, stats: ClusterStats, budget: ClusterBudget, host: Readonly<HostFacts>) {
    super(endpoint, stats, budget, host);
  }

  take(): UpstreamConn | null {
    const max = this.budget.limits.maxRequestsPerConnection;
    for (const s of this.sessions) if (s.hasRoom(max)) return s.stream();
    if (!this.canOpen()) return null;
    this.opened();
    const s = new H2UpstreamSession(this);
    this.sessions.push(s);
    return s.stream();
  }

  /** A stream's end is seen by its session; there is nothing to keep. */
  release(): void {}

  sessionChanged(s: H2UpstreamSession): void {
    if (s.active === 0 && !s.closed) {
      if (this.closed || s.draining) s.retire();
      else if (s.requests >= this.budget.limits.maxRequestsPerConnection) {
        this.stats.cxMaxRequests.inc();
        s.retire();
      }
    }
    if (this.waiters.length > 0) this.serveWaiters();
  }

  sessionClosed(s: H2UpstreamSession): void {
    const i = this.sessions.indexOf(s);
    if (i < 0) return;
    this.sessions.splice(i, 1);
    this.closedOne();
  }

  sweep(now: number, idleMs: number): void {
    for (const s of this.sessions) if (s.active === 0 && !s.draining && s.idleSince + idleMs <= now) s.retire();
  }

  close(): void {
    this.closed = true;
    for (const s of [...this.sessions]) s.retire();
  }
}
