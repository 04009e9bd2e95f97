/**
 * The upstream half of one exchange: sends the request to what the endpoint's pool gives it
 * (an HTTP/1.1 connection, or an HTTP/2 stream that speaks HTTP/1.1 bytes to it: see
 * upstream/pool-types.ts) and passes the response on to its owner, the downstream side, as it
 * comes (the reading itself is response-reader.ts). An HTTP/1 downstream connection has one,
 * reused for each of its exchanges (one at a time), so a request allocates no exchange; an
 * HTTP/2 one has one per stream.
 *
 * At the cluster's limits the pool gives nothing: the exchange waits in the pool's queue
 * (`PoolWaiter`) holding the head and any body that comes meanwhile, with the owner paused,
 * or is answered 503 `UO` when the queue is full.
 *
 * How the response goes out (bytes rewritten for an HTTP/1 hop, or HTTP/2 frames), whether it
 * closes the downstream connection, and what to answer when the upstream fails are the owner's
 * business, through `ExchangeOwner` (exchange-types.ts).
 *
 * A route's policy (retry.ts) adds a route timeout, a per-try timeout and retries. Those
 * deadlines are Node timers, armed only when the policy sets them, rather than checks on the
 * owner's tick: 250 ms is too coarse for per-try timeouts and backoffs of tens of
 * milliseconds. Without a policy nothing of it is allocated or armed.
 */
import type { RandomSource } from '../router/types.js';
import type { DirectResponseSnapshot } from '../types.js';
import { beginTry, endTry, type ClusterRuntime } from '../upstream/cluster.js';
import { LOCAL_CONNECT_FAILURE, LOCAL_RESET, LOCAL_TIMEOUT } from '../upstream/outlier-record.js';
import { requestHash } from '../upstream/request-hash.js';
import type { PoolWaiter, UpstreamConn, UpstreamOwner, UpstreamPool } from '../upstream/pool-types.js';
import { BodyMode } from './body.js';
import { Res, type ExchangeOwner, type TunnelOwner } from './exchange-types.js';
import { REPLY_502, REPLY_503, REPLY_504, localReply } from './local-reply.js';
import { ResponseReader } from './response-reader.js';
import { Failure, PolicyRun, Verdict, type ExchangePolicy, type TryHost } from './retry.js';

/** An upgrade (WebSocket) to an HTTP/2 cluster: extended CONNECT is not implemented. */
const REPLY_501 = localReply(501);
/**
 * Resends of a request that never reached a live upstream. More than one: the next idle
 * keep-alive connection may be stale too, and an HTTP/2 stream may be refused by a session
 * whose GOAWAY is still in flight.
 */
const MAX_RESENDS = 3;

export { Res, type ExchangeOwner, type TunnelOwner } from './exchange-types.js';
export type { ExchangePolicy } from './retry.js';

export class UpstreamExchange extends ResponseReader implements UpstreamOwner, TryHost, PoolWaiter {
  /** The route policy's run for this exchange; null without a policy (then nothing of it exists). */
  private run: PolicyRun | null = null;
  /** Waiting in this pool's queue for a connection (the cluster's limits were reached), or null. */
  private queuedOn: UpstreamPool | null = null;
  /** While queued: the request head to send, and body bytes that came meanwhile (null: none). */
  private queuedHead: Buffer | null = null;
  private queuedBody: Buffer[] | null = null;
  /** performance.now() when the current try started (`upstream_rq_time`). */
  private tryAt = 0;
  private resends = 0;
  /** The cluster of the current exchange, and the request's hash for its policy (-1: none). */
  private cluster: ClusterRuntime | null = null;
  private hash = -1;
  /** The current try is counted in flight (`beginTry`) on `pool` and the cluster. */
  private counted = false;

  /** `random` draws the backoff jitter (tests pass a fixed one). */
  constructor(
    owner: ExchangeOwner,
    private readonly random: RandomSource = Math.random,
  ) {
    super(owner);
  }

  /**
   * Sends `head` (rewritten for the upstream hop, with any body bytes of the same read) to an
   * endpoint of `cluster`. `moreBody`: more request body follows through `writeBody` (such a
   * request is never retried). `policy` null keeps only the owner's timer and the stale
   * keep-alive resend. Returns false when the upstream's write buffer is full.
   */
  start(cluster: ClusterRuntime, head: Buffer, moreBody: boolean, policy: ExchangePolicy | null): boolean {
    this.res = Res.WaitHead;
    this.resPending = null;
    this.responseFlags = '';
    this.resends = 0;
    if (this.run !== null) this.endRun();
    // Every owner finishes or abandons an exchange before the next; a try still counted would
    // hold a place under maxRequests for good, so it is let go here rather than trusted.
    if (this.counted) this.endTry();
    this.cluster = cluster;
    if (this.owner.upgrading && cluster.snapshot.protocol === 'http2') {
      this.res = Res.Done;
      this.owner.localReply(REPLY_501);
      return true;
    }
    const hashOn = cluster.snapshot.balancing.hashOn;
    this.hash = hashOn === null ? -1 : requestHash(hashOn, head, this.owner.clientIp());
    const pool = cluster.pick(this.hash, null);
    if (pool === null) return this.noHost(cluster);
    if (policy !== null) this.run = new PolicyRun(this, cluster, head, moreBody, policy, this.random);
    return this.send(pool, head, moreBody);
  }

  /** `host:port` of the endpoint of the last try, or "" before any (for access logs). */
  get upstreamHost(): string {
    return this.pool === null ? '' : this.pool.endpoint.key;
  }

  /** More request body. Returns false when the upstream's write buffer is full. */
  writeBody(chunk: Buffer): boolean {
    const up = this.upstream;
    if (up === null || this.res === Res.Done) {
      if (this.queuedOn === null || this.res === Res.Done) return true;
      // Held until the connection comes; the owner pauses until then (`upstreamReady`).
      this.queuedBody ??= [];
      this.queuedBody.push(chunk);
      return false;
    }
    return up.write(chunk);
  }

  /** The client half-closed a tunnel: pass the FIN on. */
  endUpstream(): void {
    if (this.upstream !== null) this.upstream.end();
  }

  /** The owner's timer (`waitUpstream`) expired during this exchange; returns false if it must be destroyed. */
  timedOut(): boolean {
    if (this.res === Res.WaitHead) {
      this.outcome(LOCAL_TIMEOUT);
      this.failed(REPLY_504, (this.pool as UpstreamPool).stats.rq504, 'UT');
      return true;
    }
    return false;
  }

  /**
   * The downstream side gives up before any of the response went out (its request stalled):
   * the try ends, its upstream connection is closed (it has part of a request), and `flag`
   * says why. Returns false when a response has started: the caller must cut it instead.
   */
  cancel(flag: string): boolean {
    if (this.res !== Res.WaitHead && this.res !== Res.None) return false;
    this.flag(flag);
    if (this.run !== null) this.endRun();
    this.retire();
    this.resPending = null;
    this.res = Res.Done;
    return true;
  }

  /** The exchange is over: the upstream goes back to its pool if its framing is trustworthy. */
  finish(now: number): void {
    const up = this.upstream;
    this.res = Res.None;
    this.retryable = null;
    if (this.run !== null) this.endRun();
    if (this.queuedOn !== null) this.unqueue();
    if (this.counted) this.endTry();
    if (up === null) return;
    this.upstream = null;
    up.owner = null;
    if (this.upstreamPaused) {
      this.upstreamPaused = false;
      up.resume();
    }
    if (this.owner.reqDone && this.reusable) up.pool.release(up, now);
    else up.close();
  }

  /** The downstream side is gone mid-exchange: the upstream socket cannot be reused; pending timers are cleared. */
  abandon(): void {
    if (this.run !== null) this.endRun();
    this.retire();
  }

  // ---- UpstreamOwner (drain and close; data is read in ResponseReader) ------------------------

  onUpstreamDrain(): void {
    this.owner.upstreamDrained();
  }

  onUpstreamClose(up: UpstreamConn): void {
    if (up !== this.upstream) return;
    this.upstream = null;
    if (this.res === Res.Tunnel) {
      (this.owner as TunnelOwner).tunnelEnded();
      return;
    }
    if (this.res === Res.Body) {
      if (this.resBody.mode === BodyMode.UntilClose) this.done(); // close-delimited body: this close is its end
      else {
        this.flag('UC');
        this.owner.resetMidResponse();
      }
      return;
    }
    if (this.res !== Res.WaitHead) return;
    if (this.resPending !== null) {
      // Part of a head, then the close: the upstream broke the response (502), it did not refuse the request.
      this.outcome(LOCAL_RESET);
      this.failed(REPLY_502, up.pool.stats.rqProtocolError, 'UPE');
      return;
    }
    const retry = this.retryable;
    if (retry !== null && up.unprocessed && this.resends < MAX_RESENDS) {
      // A stale keep-alive socket, or a refused HTTP/2 stream: resend the bodiless request.
      // Not a retry of the policy: the request never reached a live connection.
      this.resends++;
      this.acquire(up.pool, retry, true);
      return;
    }
    const connected = up.wasConnected;
    if (!up.failedLocally) this.outcome(connected ? LOCAL_RESET : LOCAL_CONNECT_FAILURE);
    if (this.run !== null && this.retry(this.run.afterFailure(connected ? Failure.Reset : Failure.ConnectFailure, up.pool.stats))) return;
    this.failed(REPLY_503, up.pool.stats.rq503, connected ? 'UC' : 'UF');
  }

  // ---- PoolWaiter ---------------------------------------------------------------------------

  upstreamReady(up: UpstreamConn): void {
    const head = this.queuedHead as Buffer;
    const body = this.queuedBody;
    this.queuedOn = null;
    this.queuedHead = null;
    this.queuedBody = null;
    let room = this.attach(up, head, this.retryable !== null);
    if (body !== null) for (const b of body) room = up.write(b);
    if (room) this.owner.upstreamDrained(); // the owner paused when it was queued
  }

  // ---- policy: tries, retries and deadlines ---------------------------------------------------

  /** One try: `head` to `pool`, on a connection it has or opens, or once one is free. */
  private send(pool: UpstreamPool, head: Buffer, moreBody: boolean): boolean {
    this.pool = pool;
    pool.stats.rqTotal.inc(); // each try, queued or refused ones too; a resend is not one
    if (!beginTry(this.cluster as ClusterRuntime, pool)) {
      this.failed(REPLY_503, pool.stats.rqPendingOverflow, 'UO'); // maxRequests: Envoy counts it here too
      return true;
    }
    this.counted = true;
    this.tryAt = performance.now();
    this.owner.waitUpstream();
    if (this.run !== null) this.run.tryStarted();
    return this.acquire(pool, head, !moreBody);
  }

  /**
   * `head` on a connection of `pool` now, or queued for one. `resendable`: kept for a resend if
   * the connection turns out `unprocessed`. Returns false when the owner must hold the body.
   */
  private acquire(pool: UpstreamPool, head: Buffer, resendable: boolean): boolean {
    const up = pool.take();
    if (up !== null) return this.attach(up, head, resendable);
    if (pool.enqueue(this)) {
      this.queuedOn = pool;
      this.queuedHead = head;
      this.retryable = resendable ? head : null;
      return false;
    }
    this.failed(REPLY_503, pool.stats.rqPendingOverflow, 'UO');
    return true;
  }

  private attach(up: UpstreamConn, head: Buffer, resendable: boolean): boolean {
    up.owner = this;
    this.upstream = up;
    this.retryable = resendable ? head : null;
    return up.write(head);
  }

  /** Leaves the pool's queue (a timeout, a failure, or the client left). */
  private unqueue(): void {
    (this.queuedOn as UpstreamPool).dequeue(this);
    this.queuedOn = null;
    this.queuedHead = null;
    this.queuedBody = null;
  }

  /** Acts on the policy's verdict on a failed try; true when a retry is under way. */
  private retry(v: Verdict): boolean {
    if (v === Verdict.Retry) {
      this.retire(); // a retried response's connection is closed: its body is never read
      this.resPending = null;
      return true;
    }
    if (v === Verdict.Exhausted) this.flag('URX');
    return false;
  }

  private endRun(): void {
    (this.run as PolicyRun).clear();
    this.run = null;
  }

  // ---- TryHost: called by the policy run's timers ---------------------------------------------

  nextTry(request: Buffer): void {
    if (this.res !== Res.WaitHead) return;
    const cluster = this.cluster as ClusterRuntime;
    const pool = cluster.pick(this.hash, this.pool);
    if (pool === null) {
      this.noHost(cluster);
      return;
    }
    // Not backpressure the owner waits on: it may have paused on the try that failed, and
    // this socket's 'drain' would not come if the write went through at once.
    if (this.send(pool, request, false)) this.owner.upstreamDrained();
  }

  tryTimedOut(): void {
    const run = this.run;
    if (run === null || this.res !== Res.WaitHead || (this.upstream === null && this.queuedOn === null)) return;
    const stats = (this.pool as UpstreamPool).stats;
    stats.rqPerTryTimeout.inc();
    this.outcome(LOCAL_TIMEOUT);
    this.retire(); // never reused: a late response would answer the next request
    if (this.retry(run.afterFailure(Failure.PerTryTimeout, stats))) return;
    this.failed(REPLY_504, stats.rq504, 'UT');
  }

  routeTimedOut(): void {
    const stats = (this.pool as UpstreamPool).stats;
    if (this.res === Res.WaitHead) {
      stats.rqTimeout.inc();
      if (this.upstream !== null) this.outcome(LOCAL_TIMEOUT);
      this.failed(REPLY_504, stats.rq504, 'UT');
    } else if (this.res === Res.Body) {
      // The head went downstream: the client must see the response broken, not a 504.
      stats.rqTimeout.inc();
      this.flag('UT');
      this.endRun();
      this.retire();
      this.res = Res.Done;
      this.owner.resetMidResponse();
    }
  }

  // ---- ResponseReader hooks -----------------------------------------------------------------

  protected failed(reply: DirectResponseSnapshot, counter: { inc(): void }, flag: string): void {
    counter.inc();
    this.flag(flag);
    if (this.run !== null) this.endRun();
    this.retire();
    this.resPending = null;
    this.res = Res.Done;
    this.owner.localReply(reply);
  }

  protected interimSent(): void {
    if (this.run !== null) this.run.committed(); // something went downstream: no retry now
  }

  protected finalHead(status: number): boolean {
    this.outcome(status);
    const run = this.run;
    if (run === null) return false;
    run.headArrived();
    return this.retry(run.afterStatus(status, (this.pool as UpstreamPool).stats));
  }

  protected settled(): void {
    (this.pool as UpstreamPool).stats.rqTime.record((performance.now() - this.tryAt) * 1000);
    const run = this.run;
    if (run === null) return;
    const status = this.status;
    if (run.retried && status >= 200 && status < 500) (this.pool as UpstreamPool).stats.rqRetrySuccess.inc();
    this.endRun();
  }

  protected retire(): void {
    if (this.queuedOn !== null) this.unqueue();
    if (this.counted) this.endTry();
    const up = this.upstream;
    if (up !== null) {
      this.upstream = null;
      up.owner = null;
      up.close();
    }
  }

  // ---- hosts --------------------------------------------------------------------------------

  /** The cluster has no host that may take traffic: 503 `UH`, as Envoy's "no healthy upstream". */
  private noHost(cluster: ClusterRuntime): boolean {
    this.failed(REPLY_503, cluster.snapshot.stats.cxNoneHealthy, 'UH');
    return true;
  }

  /** The current try's outcome, for outlier detection: a response status or a local failure. */
  private outcome(status: number): void {
    const pool = this.pool;
    if (pool !== null) (this.cluster as ClusterRuntime).outcome(pool, status);
  }

  private endTry(): void {
    this.counted = false;
    endTry(this.cluster as ClusterRuntime, this.pool as UpstreamPool);
  }
}
