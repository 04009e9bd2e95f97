/**
 * One HTTP/2 session to an upstream endpoint (node:http2 `connect`): h2c with prior knowledge
 * over plain TCP, or h2 by ALPN over TLS with the cluster's settings. It counts its streams
 * against the peer's SETTINGS_MAX_CONCURRENT_STREAMS and the requests it carried. Until the
 * peer's SETTINGS arrive it assumes what the endpoint's last session was told (100 for the
 * first, as node:http2 does): a burst on a new session is then refused (REFUSED_STREAM, and
 * resent) only on the endpoint's first session, not on each one. It stops taking streams
 * once the peer sent GOAWAY: the streams it has go on to their end, new ones go elsewhere.
 * Which session a request uses is the pool's (upstream/h2-pool.ts).
 */
import { connect, type ClientHttp2Session } from 'node:http2';
import type { Socket } from 'node:net';
import type { ClusterStats, EndpointSnapshot } from '../types.js';
import { connectUpstream, failedLocally } from '../upstream/connect.js';
import type { UpstreamPool } from '../upstream/pool-types.js';
import { H2UpstreamStream } from './upstream-stream.js';

/** What a session reports to its pool. */
export interface SessionHost extends UpstreamPool {
  /** The endpoint's last SETTINGS_MAX_CONCURRENT_STREAMS (a new session starts with it). */
  peerStreams: number;
  /** A stream of `s` ended, or its settings or a GOAWAY changed what it can take. */
  sessionChanged(s: H2UpstreamSession): void;
  /** `s` is closed: it holds no streams and no place in the budget. */
  sessionClosed(s: H2UpstreamSession): void;
}

/** Streams assumed allowed before an endpoint's first SETTINGS frame. */
export const DEFAULT_PEER_STREAMS = 100;
const H2_ALPN = ['h2'];

export class H2UpstreamSession {
  readonly session: ClientHttp2Session;
  /** `:scheme` of its requests. */
  readonly scheme: 'http' | 'https';
  /** Streams open on it, and streams it was ever given. */
  active = 0;
  requests = 0;
  maxStreams: number;
  /** The peer sent GOAWAY (or the pool retired it): no new streams. */
  draining = false;
  /** The last stream id the peer's GOAWAY said it may process; -1 before any GOAWAY. */
  goawayLast = -1;
  /** The session is up (TCP, TLS with its verification, the preface): a failure after it is no connect failure. */
  connected = false;
  closed = false;
  /** TCP connected; with TLS, a failed handshake is counted by connect.ts. */
  private tcp = false;
  private readonly socket: Socket;
  /** Date.now() ms when its last stream ended. */
  idleSince = Date.now();

  /** The connect failed for want of an fd in this process (connect.ts): not the host's fault. */
  get failedLocally(): boolean {
    return failedLocally(this.socket);
  }

  constructor(readonly host: SessionHost) {
    const ep = host.endpoint;
    const stats: ClusterStats = host.stats;
    this.maxStreams = host.peerStreams;
    stats.cxTotal.inc();
    stats.cxActive.inc();
    stats.cxHttp2Total.inc();
    this.scheme = ep.tls === null ? 'http' : 'https';
    const socket = connectUpstream(ep, ep.tls, stats, false, ep.tls === null ? null : H2_ALPN);
    this.socket = socket;
    socket.once('connect', this.onTcp);
    this.session = connect(`${this.scheme}://${authorityOf(ep)}`, { createConnection: (): Socket => socket, peerMaxConcurrentStreams: host.peerStreams, settings: { enablePush: false } });
    this.session.once('connect', this.onConnect);
    this.session.on('remoteSettings', this.onSettings);
    this.session.on('goaway', this.onGoaway);
    this.session.on('error', ignoreError); // 'close' follows; the streams carry the consequence
    this.session.on('close', this.onClose);
  }

  /** Whether a new stream may go on this session. */
  hasRoom(maxRequests: number): boolean {
    return !this.draining && this.active < this.maxStreams && this.requests < maxRequests;
  }

  /** A stream for one request (node's stream is made when the request head is written). */
  stream(): H2UpstreamStream {
    this.active++;
    this.requests++;
    return new H2UpstreamStream(this);
  }

  streamEnded(): void {
    if (--this.active === 0) this.idleSince = Date.now();
    this.host.sessionChanged(this);
  }

  /** Closes it once its streams are done: GOAWAY, then the socket. */
  retire(): void {
    this.draining = true;
    if (this.active === 0 && !this.closed) this.session.close();
  }

  private readonly onTcp = (): void => {
    this.tcp = true;
  };

  private readonly onConnect = (): void => {
    this.connected = true;
  };

  private readonly onSettings = (): void => {
    this.maxStreams = this.session.remoteSettings.maxConcurrentStreams ?? DEFAULT_PEER_STREAMS;
    this.host.peerStreams = this.maxStreams;
    this.host.sessionChanged(this);
  };

  private readonly onGoaway = (_code: number, lastStreamId: number): void => {
    this.draining = true;
    this.goawayLast = lastStreamId;
    this.host.sessionChanged(this);
  };

  private readonly onClose = (): void => {
    this.closed = true;
    this.draining = true;
    this.host.stats.cxActive.dec();
    if (!this.tcp) this.host.stats.cxConnectFail.inc();
    this.host.sessionClosed(this);
  };
}

function authorityOf(ep: EndpointSnapshot): string {
  return ep.host.includes(':') ? `[${ep.host}]:${ep.port}` : `${ep.host}:${ep.port}`;
}

function ignoreError(): void {}
