/**
 * Protocol abuse on one downstream HTTP/2 session: what ends it, and under which counter.
 *
 * nghttp2 (1.61 in Node 20.20) catches two kinds itself and Node reports them as the session's
 * 'error' with the nghttp2 code in `errno`:
 * - `NGHTTP2_ERR_TOO_MANY_CONTINUATIONS` (-905): a header block split over more CONTINUATION
 *   frames than nghttp2 allows (CVE-2024-27983 style "endless headers").
 * - `NGHTTP2_ERR_FLOODED` (-904): the queue of frames we owe the peer (PING and SETTINGS ACKs,
 *   RST_STREAMs) grew past its cap because the peer sends faster than it reads. The code does not
 *   say which frames; the PING and SETTINGS frames this session has seen do.
 *
 * Two kinds nghttp2 does not see, or sees too late, are counted here, per session:
 * - PING and SETTINGS floods from a peer that does read its ACKs: more than
 *   `MAX_CONTROL_PER_WINDOW` of either in one `WINDOW_MS` window. Node calls into JS for these
 *   frames only because we listen for them; real clients send a handful per connection.
 * - Rapid reset (CVE-2023-44487): nghttp2 rate-limits RST_STREAM with GOAWAY INTERNAL_ERROR
 *   but tells Node nothing. Before it does, Envoy's rule applies: once a session has opened
 *   `RESET_MIN_STREAMS` streams and the client cancelled at least half of them before their
 *   response ended, the session is ended.
 *
 * Either way the session gets GOAWAY with ENHANCE_YOUR_CALM and its socket is closed.
 */
import { constants, type ServerHttp2Session } from 'node:http2';
import type { H2AbuseStats } from '../types.js';

const ERR_FLOODED = -904;
const ERR_TOO_MANY_CONTINUATIONS = -905;

/** Window of the PING and SETTINGS rate checks (ms of the coarse clock). */
const WINDOW_MS = 1_000;
/** PINGs or SETTINGS frames one session may send per window; browsers and gRPC send a few per minute. */
const MAX_CONTROL_PER_WINDOW = 100;
/** Streams a session must have opened before its resets are judged (nghttp2's own limit bites near 1000). */
const RESET_MIN_STREAMS = 500;

/** The error a session ended here is destroyed with; only this session's own listener sees it. */
const ABUSE = new Error('HTTP/2 session ended for protocol abuse');

export const enum AbuseKind {
  RapidReset,
  ContinuationFlood,
  PingFlood,
  SettingsFlood,
  /** Anything else nghttp2 ended the session for (invalid frames, rejected streams, ...). */
  Other,
}

export class SessionAbuseGuard {
  private windowStart = 0;
  private pings = 0;
  private settings = 0;
  /** Since the session started, for classifying an nghttp2 flood. */
  private pingsTotal = 0;
  private settingsTotal = 0;
  private streams = 0;
  private resets = 0;
  private ended = false;

  constructor(
    private readonly session: ServerHttp2Session,
    private readonly stats: H2AbuseStats,
    private readonly clock: { readonly now: number },
  ) {
    session.on('ping', this.onPing);
    session.on('remoteSettings', this.onSettings);
  }

  /** A stream opened. */
  streamOpened(): void {
    this.streams++;
  }

  /** The client reset a stream before its response ended. */
  streamReset(): void {
    this.resets++;
    if (this.streams >= RESET_MIN_STREAMS && this.resets * 2 >= this.streams) this.end(AbuseKind.RapidReset);
  }

  /** The session's 'error': nghttp2 ended it. Returns false for plain transport errors. */
  sessionError(err: NodeJS.ErrnoException): boolean {
    if (err.code === 'ECONNRESET' || err.code === 'EPIPE') return false;
    if (err.errno === ERR_TOO_MANY_CONTINUATIONS) this.count(AbuseKind.ContinuationFlood);
    else if (err.errno === ERR_FLOODED) this.count(this.pingsTotal === 0 && this.settingsTotal === 0 ? AbuseKind.Other : this.pingsTotal >= this.settingsTotal ? AbuseKind.PingFlood : AbuseKind.SettingsFlood);
    else this.count(AbuseKind.Other);
    return true;
  }

  private readonly onPing = (): void => {
    this.pingsTotal++;
    if (this.tick() && ++this.pings > MAX_CONTROL_PER_WINDOW) this.end(AbuseKind.PingFlood);
  };

  private readonly onSettings = (): void => {
    this.settingsTotal++;
    if (this.tick() && ++this.settings > MAX_CONTROL_PER_WINDOW) this.end(AbuseKind.SettingsFlood);
  };

  /** Starts a new window when the current one is over; false once the session is being ended. */
  private tick(): boolean {
    if (this.ended) return false;
    const now = this.clock.now;
    if (now - this.windowStart >= WINDOW_MS) {
      this.windowStart = now;
      this.pings = 0;
      this.settings = 0;
    }
    return true;
  }

  private end(kind: AbuseKind): void {
    if (this.count(kind)) return;
    const s = this.session;
    // destroy with a code: nghttp2 queues GOAWAY(code), it is written, then the socket closes.
    // The code needs an error beside it (without one Node sends NO_ERROR); the error comes back
    // to the session's 'error' listener, and `count` has already counted this end.
    if (!s.destroyed) s.destroy(ABUSE, constants.NGHTTP2_ENHANCE_YOUR_CALM);
  }

  /** Counts the session's end once; true when it was already counted. */
  private count(kind: AbuseKind): boolean {
    if (this.ended) return true;
    this.ended = true;
    const st = this.stats;
    st.goaway.inc();
    if (kind === AbuseKind.RapidReset) st.rapidReset.inc();
    else if (kind === AbuseKind.ContinuationFlood) st.continuationFlood.inc();
    else if (kind === AbuseKind.PingFlood) st.pingFlood.inc();
    else if (kind === AbuseKind.SettingsFlood) st.settingsFlood.inc();
    return false;
  }
}
