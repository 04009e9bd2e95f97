/**
 * The hot-restart RPC vocabulary: every request type, the body of its reply, and the
 * hand-written validators that turn untrusted JSON into those types.
 *
 * To add a message: declare its request and reply interfaces, add one entry to `RpcMethods`
 * and one to `METHODS` below. The compiler then asks for nothing else; handlers are optional
 * per side, and a side without a handler answers "unrecognized".
 */
import { bool, int, invalid, isJsonObject, noFds, object, objects, oneOf, plain, str, strOrNull, validateEmpty, type JsonObject, type Validator } from './json-fields.js';

export { isJsonObject, type JsonObject };

export type PeerRole = 'supervisor' | 'epoch' | 'cli';
const ROLES: readonly PeerRole[] = ['supervisor', 'epoch', 'cli'];

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

export interface ConfigReply {
  type: 'getConfig';
  /** The file the text was read from, for error positions. */
  source: string;
  text: string;
  /** Worker threads to run instead of the config's `workers` (`start --workers`), or null. */
  workersOverride: number | null;
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
}

export interface StatusRequest {
  type: 'status';
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
}

/** `proxyctl drain`: take this host out of rotation, stay up. */
export interface DrainHostRequest {
  type: 'drainHost';
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
  reload: { request: ReloadRequest; reply: ReloadReply };
  status: { request: StatusRequest; reply: StatusReply };
  drainHost: { request: DrainHostRequest; reply: DrainHostReply };
  stop: { request: StopRequest; reply: StopReply };
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

function validateHello(obj: JsonObject, fdCount: number): HelloMessage {
  noFds(fdCount);
  const role = obj.role;
  if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role)) throw invalid('role');
  return {
    type: 'hello',
    protocolVersion: int(obj, 'protocolVersion', 0),
    statsLayoutVersion: int(obj, 'statsLayoutVersion', 0),
    role: role as PeerRole,
    epoch: int(obj, 'epoch', -1),
    pid: int(obj, 'pid', 0),
  };
}

function validateListenSockets(obj: JsonObject, fdCount: number): ListenSocketsReply {
  const used = new Set<number>();
  const sockets: ListenSocketDescriptor[] = [];
  for (const item of objects(obj, 'sockets')) {
    const fdIndex = int(item, 'fdIndex', 0, fdCount - 1);
    // Two names for one fd would make two listeners close the same descriptor.
    if (used.has(fdIndex)) throw invalid(`fdIndex ${fdIndex} used twice`);
    used.add(fdIndex);
    sockets.push({ kind: oneOf(item, 'kind', ['listener', 'admin']), name: str(item, 'name'), address: str(item, 'address'), slot: int(item, 'slot', 0), fdIndex });
  }
  // Every fd must be claimed by a descriptor, or nobody would close it.
  if (used.size !== fdCount) throw invalid(`${fdCount - used.size} fd(s) without a descriptor`);
  return { type: 'getListenSockets', sockets };
}

const validateConfigReply = plain((o): ConfigReply => ({
  type: 'getConfig',
  source: str(o, 'source'),
  text: str(o, 'text'),
  workersOverride: o.workersOverride === null ? null : int(o, 'workersOverride', 1, 64),
}));

const validateReady = plain((o): ReadyRequest => ({
  type: 'ready',
  workers: int(o, 'workers', 1),
  sockets: int(o, 'sockets', 0),
  steps: objects(o, 'steps').map((s) => ({ event: str(s, 'event'), at: int(s, 'at', 0) })),
}));

const validateDrain = plain((o): DrainEpochRequest => ({
  type: 'drain',
  strategy: oneOf(o, 'strategy', ['gradual', 'immediate']),
  drainTimeMs: int(o, 'drainTimeMs', 0),
  parentShutdownTimeMs: int(o, 'parentShutdownTimeMs', 0),
  exit: bool(o, 'exit'),
}));

function validateDrainReply<K extends DrainReply['type']>(type: K): Validator<DrainReply> {
  return plain((o) => ({ type, connections: int(o, 'connections', 0) }));
}

const validateEpochStatus = plain((o): EpochStatusReply => ({
  type: 'epochStatus',
  connections: int(o, 'connections', 0),
  workers: int(o, 'workers', 0),
  draining: bool(o, 'draining'),
}));

const validateReload = plain((o): ReloadRequest => ({
  type: 'reload',
  configPath: strOrNull(o, 'configPath'),
  testFault: strOrNull(o, 'testFault'),
  cold: o.cold === undefined ? false : bool(o, 'cold'),
}));

const validateStandbyReady = plain((o): StandbyReadyRequest => ({
  type: 'standbyReady',
  workers: int(o, 'workers', 1),
  steps: objects(o, 'steps').map((s) => ({ event: str(s, 'event'), at: int(s, 'at', 0) })),
}));

const STANDBY_STATES: readonly StandbySummary['state'][] = ['loading', 'warm'];

function validateStandby(o: JsonObject): StandbySummary | null {
  if (o.standby === undefined || o.standby === null) return null;
  const s = object(o, 'standby');
  return { epoch: int(s, 'epoch', 0), pid: int(s, 'pid', 0), uptimeMs: int(s, 'uptimeMs', 0), state: oneOf(s, 'state', STANDBY_STATES) };
}

const validateReloadReply = plain((o): ReloadReply => ({
  type: 'reload',
  epoch: int(o, 'epoch', 0),
  pid: int(o, 'pid', 0),
  configPath: str(o, 'configPath'),
  coalesced: bool(o, 'coalesced'),
  timeline: objects(o, 'timeline').map((e) => {
    const event: TimelineEvent = { event: str(e, 'event'), atMs: int(e, 'atMs', 0) };
    if (e.detail !== undefined) event.detail = str(e, 'detail');
    return event;
  }),
}));

const EPOCH_STATES: readonly EpochState[] = ['starting', 'active', 'draining', 'exited'];

const validateStatusReply = plain((o): StatusReply => {
  const sup = object(o, 'supervisor');
  return {
    type: 'status',
    supervisor: { pid: int(sup, 'pid', 0), baseId: int(sup, 'baseId', 0), uptimeMs: int(sup, 'uptimeMs', 0), configPath: str(sup, 'configPath'), reloading: bool(sup, 'reloading') },
    epochs: objects(o, 'epochs').map((e) => ({
      epoch: int(e, 'epoch', 0),
      pid: int(e, 'pid', 0),
      state: oneOf(e, 'state', EPOCH_STATES),
      uptimeMs: int(e, 'uptimeMs', 0),
      connections: e.connections === null ? null : int(e, 'connections', 0),
      workers: int(e, 'workers', 0),
    })),
    standby: validateStandby(o),
  };
});

function validateActivate(obj: JsonObject, fdCount: number): ActivateRequest {
  const { source, text, workersOverride } = validateConfigReply(object(obj, 'config'), 0);
  return { type: 'activate', config: { source, text, workersOverride }, sockets: validateListenSockets(obj, fdCount).sockets };
}

function validatePingReply(obj: JsonObject, fdCount: number): PingReply {
  noFds(fdCount);
  return { type: 'ping', pid: int(obj, 'pid', 0) };
}

/** Request and reply validators per type. `satisfies` makes a missing entry a compile error. */
export const METHODS = {
  hello: { request: validateHello, reply: validateHello },
  getListenSockets: { request: validateEmpty('getListenSockets'), reply: validateListenSockets },
  ping: { request: validateEmpty('ping'), reply: validatePingReply },
  getConfig: { request: validateEmpty('getConfig'), reply: validateConfigReply },
  ready: { request: validateReady, reply: validateEmpty('ready') },
  standbyReady: { request: validateStandbyReady, reply: validateEmpty('standbyReady') },
  activate: { request: validateActivate, reply: validateEmpty('activate') },
  drain: { request: validateDrain, reply: validateDrainReply('drain') },
  hurry: { request: plain((o): HurryRequest => ({ type: 'hurry', graceMs: int(o, 'graceMs', 0) })), reply: validateDrainReply('hurry') },
  terminate: { request: validateEmpty('terminate'), reply: validateDrainReply('terminate') },
  epochStatus: { request: validateEmpty('epochStatus'), reply: validateEpochStatus },
  reload: { request: validateReload, reply: validateReloadReply },
  status: { request: validateEmpty('status'), reply: validateStatusReply },
  drainHost: { request: validateEmpty('drainHost'), reply: plain((o): DrainHostReply => ({ type: 'drainHost', epoch: int(o, 'epoch', 0), connections: int(o, 'connections', 0) })) },
  stop: { request: plain((o): StopRequest => ({ type: 'stop', now: bool(o, 'now') })), reply: plain((o): StopReply => ({ type: 'stop', pid: int(o, 'pid', 0) })) },
} satisfies { [K in RequestType]: { request: Validator<RequestOf<K>>; reply: Validator<ReplyOf<K>> } };

export function isRequestType(type: string): type is RequestType {
  return Object.hasOwn(METHODS, type);
}

/** Narrows a reply frame's JSON; throws PROXYCTL_ERR_RPC_PROTOCOL. */
export function validateReplyPayload(value: unknown): ReplyPayload<JsonObject> {
  if (!isJsonObject(value)) throw invalid('reply must be an object');
  switch (value.status) {
    case 'ok':
      if (!isJsonObject(value.body)) throw invalid('ok reply without body');
      return { status: 'ok', body: value.body };
    case 'error': {
      const details = value.details;
      if (details !== undefined && !isJsonObject(details)) throw invalid('error details must be an object');
      return { status: 'error', code: str(value, 'code'), message: str(value, 'message'), details: details ?? {} };
    }
    case 'unrecognized':
      return { status: 'unrecognized', type: str(value, 'type') };
    default:
      throw invalid('unknown reply status');
  }
}
