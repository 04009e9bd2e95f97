/**
 * The hot-restart RPC vocabulary: every request type and the body of its reply. The
 * hand-written validators that turn untrusted JSON into these types are in validate.ts.
 *
 * To add a message: declare its request and reply interfaces, add one entry to `RpcMethods`
 * here and one to `METHODS` in validate.ts. The compiler then asks for nothing else; handlers
 * are optional per side, and a side without a handler answers "unrecognized".
 */
import { isJsonObject, type JsonObject } from './json-fields.js';
import type { ClusterStateHandoff, ClusterView } from '../clusters/types.js';
import type { HostHealthReply, HostHealthRequest, HostIntent } from './messages-admin.js';
import type { WorkerCrashedReply, WorkerCrashedRequest } from './messages-worker-crash.js';

export { isJsonObject, type JsonObject };

export type PeerRole = 'supervisor' | 'epoch' | 'cli';

/** The first request on every connection, and the shape of its reply: each side's own facts. */
export interface HelloMessage {
  type: 'hello';
  protocolVersion: number;
  statsLayoutVersion: number;
  role: PeerRole;
  /** The sender's epoch number; the supervisor and the CLI send -1. */
  epoch: number;
  pid: number;
}

export interface GetListenSocketsRequest {
  type: 'getListenSockets';
}

/** One listening socket handed over with a reply; its fd is `fds[fdIndex]` of that reply. */
export interface ListenSocketDescriptor {
  /** `listener`: a data-plane listener of the config; `admin`: the admin endpoint. */
  kind: 'listener' | 'admin';
  /** The listener's name in the config (`admin` for the admin endpoint). */
  name: string;
  /** Where it listens, `host:port` ([v6]:port); informational. */
  address: string;
  /** The worker slot this SO_REUSEPORT socket was bound for (0 for admin). */
  slot: number;
  fdIndex: number;
}

export interface ListenSocketsReply {
  type: 'getListenSockets';
  sockets: ListenSocketDescriptor[];
}

export interface PingRequest {
  type: 'ping';
}

// ---- epoch → supervisor ------------------------------------------------------------------

/** The epoch asks for the config text it must run; it parses it with its own (maybe newer) code. */
export interface GetConfigRequest {
  type: 'getConfig';
}

export interface ConfigReply extends HostIntent {
  type: 'getConfig';
  /** The file the text was read from, for error positions. */
  source: string;
  text: string;
  /** Worker threads to run instead of the config's `workers` (`start --workers`), or null. */
  workersOverride: number | null;
  /**
   * Host health and outlier state from the epoch serving now, so the new one does not start
   * blind; null on a cold start, or when the serving epoch did not answer in time.
   * A supervisor from before this field sends none: read as null.
   */
  clusterState: ClusterStateHandoff | null;
}

/** One step an epoch took on its way to ready, at its own wall clock (ms since the epoch). */
export interface EpochStep {
  event: string;
  at: number;
}

/** The epoch accepts on every socket it received and its admin endpoint serves. */
export interface ReadyRequest {
  type: 'ready';
  workers: number;
  /** Listening sockets the workers accept on (all that were handed over). */
  sockets: number;
  steps: EpochStep[];
}

export interface AckReply<K extends string> {
  type: K;
}

/**
 * A standby epoch (spawned with `--standby`) has loaded its code, started its worker threads
 * and mapped the stats region. It holds no config and no socket, and waits for `activate`.
 */
export interface StandbyReadyRequest {
  type: 'standbyReady';
  workers: number;
  steps: EpochStep[];
}

// ---- supervisor → epoch ------------------------------------------------------------------

/**
 * A reload takes this standby (the supervisor has given its threads back normal CPU
 * priority). The request carries what a cold epoch asks for with getConfig and
 * getListenSockets (the fds ride with it), so the standby goes straight on to ready: two
 * round trips fewer, each a wake-up of two processes. Answered at once.
 */
export interface ActivateRequest {
  type: 'activate';
  config: Omit<ConfigReply, 'type'>;
  sockets: ListenSocketDescriptor[];
}

/**
 * Stop accepting and drain. `exit`: leave once no connection is left, or at
 * `parentShutdownTimeMs` (a reload or a stop); otherwise stay up with readiness failing
 * (`proxyctl drain`).
 */
export interface DrainEpochRequest {
  type: 'drain';
  strategy: 'gradual' | 'immediate';
  drainTimeMs: number;
  parentShutdownTimeMs: number;
  exit: boolean;
}

/** A fourth epoch is coming: switch to immediate drain, and force-close what is left after `graceMs`. */
export interface HurryRequest {
  type: 'hurry';
  graceMs: number;
}

/** Close every connection now (counted as forced) and exit. */
export interface TerminateRequest {
  type: 'terminate';
}

export interface EpochStatusRequest {
  type: 'epochStatus';
}

export interface EpochStatusReply {
  type: 'epochStatus';
  connections: number;
  workers: number;
  draining: boolean;
}

/**
 * What the epoch knows of its clusters now: the state a reload hands to the next epoch, and
 * what operators see (admin /clusters, `proxyctl status --clusters`). Before its clusters
 * exist (booting, a standby) both are empty. An epoch from before this message answers
 * unrecognized.
 */
export interface ClusterStateRequest {
  type: 'clusterState';
}

export interface ClusterStateReply {
  type: 'clusterState';
  handoff: ClusterStateHandoff;
  views: ClusterView[];
}

export interface DrainReply {
  type: 'drain' | 'hurry' | 'terminate';
  /** Open downstream connections when the request arrived. */
  connections: number;
}

// ---- CLI → supervisor ----------------------------------------------------------------------

export interface ReloadRequest {
  type: 'reload';
  /** A new config file (absolute path), or null to re-read the current one. */
  configPath: string | null;
  /** PROXYCTL_TEST_FAULT for the new epoch only (a test hook; see proxyctl(1)). */
  testFault: string | null;
  /** `reload --cold`: discard the warm standby and spawn a fresh epoch. Absent means false. */
  cold?: boolean;
}

/** One step of a reload, in ms since the supervisor took the request. */
export interface TimelineEvent {
  event: string;
  atMs: number;
  detail?: string;
}

export interface ReloadReply {
  type: 'reload';
  epoch: number;
  pid: number;
  configPath: string;
  /** True when this request was folded into a reload that other requests also asked for. */
  coalesced: boolean;
  timeline: TimelineEvent[];
}

export type EpochState = 'starting' | 'active' | 'draining' | 'exited';

export interface EpochSummary {
  epoch: number;
  pid: number;
  state: EpochState;
  uptimeMs: number;
  /** Open downstream connections, or null when the epoch did not answer in time. */
  connections: number | null;
  workers: number;
  /**
   * A draining epoch: ms until its drain deadline (`parentShutdownTime` when it will exit,
   * `drainTime` after `proxyctl drain`). Absent otherwise, and from a supervisor that predates it.
   */
  drainLeftMs?: number;
}

export interface StatusRequest {
  type: 'status';
  /** `status --clusters`: add the serving epoch's cluster views. Absent (an older CLI) means false. */
  clusters?: boolean;
}

/** The warm standby epoch: `loading` until it said standbyReady, then `warm`. */
export interface StandbySummary {
  epoch: number;
  pid: number;
  uptimeMs: number;
  state: 'loading' | 'warm';
}

export interface StatusReply {
  type: 'status';
  supervisor: { pid: number; baseId: number; uptimeMs: number; configPath: string; reloading: boolean };
  epochs: EpochSummary[];
  /** Null when there is none (disabled, being replaced); absent from an older supervisor. */
  standby?: StandbySummary | null;
  /**
   * The serving epoch's clusters, only when the request asked for them: null when no epoch
   * serves or it did not answer in time (or predates the question). Absent when not asked,
   * and from an older supervisor.
   */
  clusters?: ClusterView[] | null;
}

/** `proxyctl drain`: take this host out of rotation, stay up. */
export interface DrainHostRequest {
  type: 'drainHost';
  /** False (admin `/drain_listeners` without `?graceful`): drain immediately. Absent: the config's strategy. */
  graceful?: boolean;
}

export interface DrainHostReply {
  type: 'drainHost';
  epoch: number;
  connections: number;
}

export interface StopRequest {
  type: 'stop';
  /** Skip the drain: close every connection now. */
  now: boolean;
}

export interface StopReply {
  type: 'stop';
  pid: number;
}

export interface PingReply {
  type: 'ping';
  pid: number;
}

/** Request type → request body and reply body. The one table the rest is derived from. */
export interface RpcMethods {
  hello: { request: HelloMessage; reply: HelloMessage };
  getListenSockets: { request: GetListenSocketsRequest; reply: ListenSocketsReply };
  ping: { request: PingRequest; reply: PingReply };
  getConfig: { request: GetConfigRequest; reply: ConfigReply };
  ready: { request: ReadyRequest; reply: AckReply<'ready'> };
  standbyReady: { request: StandbyReadyRequest; reply: AckReply<'standbyReady'> };
  activate: { request: ActivateRequest; reply: AckReply<'activate'> };
  drain: { request: DrainEpochRequest; reply: DrainReply };
  hurry: { request: HurryRequest; reply: DrainReply };
  terminate: { request: TerminateRequest; reply: DrainReply };
  epochStatus: { request: EpochStatusRequest; reply: EpochStatusReply };
  clusterState: { request: ClusterStateRequest; reply: ClusterStateReply };
  reload: { request: ReloadRequest; reply: ReloadReply };
  status: { request: StatusRequest; reply: StatusReply };
  drainHost: { request: DrainHostRequest; reply: DrainHostReply };
  stop: { request: StopRequest; reply: StopReply };
  hostHealth: { request: HostHealthRequest; reply: HostHealthReply };
  workerCrashed: { request: WorkerCrashedRequest; reply: WorkerCrashedReply };
}

export type RequestType = keyof RpcMethods;
export type RequestOf<K extends RequestType> = RpcMethods[K]['request'];
export type ReplyOf<K extends RequestType> = RpcMethods[K]['reply'];
/** Every request, discriminated on `type`. */
export type RpcRequest = { [K in RequestType]: RequestOf<K> }[RequestType];

/**
 * The JSON of a response frame. Only `ok` replies may carry fds; fds on any other reply are
 * closed by the receiver.
 */
export type ReplyPayload<Body extends object = object> =
  | { status: 'ok'; body: Body }
  | { status: 'error'; code: string; message: string; details?: Record<string, unknown> }
  /** Envoy's didnt_recognize_your_last_message: this side has no handler for `type`. */
  | { status: 'unrecognized'; type: string };
