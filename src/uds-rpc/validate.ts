/**
 * The validators of the hot-restart RPC: untrusted JSON (and the count of fds that came with
 * it) in, a message of messages.ts out, or PROXYCTL_ERR_RPC_PROTOCOL. One entry per request
 * type in `METHODS`; `satisfies` makes a missing one a compile error.
 */
import { bool, int, invalid, isJsonObject, noFds, object, objects, oneOf, plain, str, strOrNull, validateEmpty, type JsonObject, type Validator } from './json-fields.js';
import type {
  ActivateRequest,
  ClusterStateReply,
  ConfigReply,
  DrainEpochRequest,
  DrainHostReply,
  DrainHostRequest,
  DrainReply,
  EpochState,
  EpochStatusReply,
  HelloMessage,
  HurryRequest,
  ListenSocketDescriptor,
  ListenSocketsReply,
  PeerRole,
  PingReply,
  ReadyRequest,
  ReloadReply,
  ReloadRequest,
  ReplyOf,
  ReplyPayload,
  RequestOf,
  RequestType,
  StandbyReadyRequest,
  StandbySummary,
  StatusReply,
  StatusRequest,
  StopReply,
  StopRequest,
  TimelineEvent,
} from './messages.js';
import { ADMIN_METHODS, hostIntent } from './validate-admin.js';
import { WORKER_CRASH_METHODS } from './validate-worker-crash.js';
import { handoffOrNull, validateHandoff, validateViews, viewsOrNull } from './validate-clusters.js';

const ROLES: readonly PeerRole[] = ['supervisor', 'epoch', 'cli'];

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
  clusterState: handoffOrNull(o, 'clusterState'),
  ...hostIntent(o),
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
      ...(e.drainLeftMs === undefined ? {} : { drainLeftMs: int(e, 'drainLeftMs', 0) }),
    })),
    standby: validateStandby(o),
    ...(o.clusters === undefined ? {} : { clusters: viewsOrNull(o, 'clusters') }),
  };
});

const validateStatusRequest = plain((o): StatusRequest => (o.clusters === undefined ? { type: 'status' } : { type: 'status', clusters: bool(o, 'clusters') }));

const validateClusterState = plain((o): ClusterStateReply => ({
  type: 'clusterState',
  handoff: validateHandoff(object(o, 'handoff')),
  views: validateViews(o, 'views'),
}));

function validateActivate(obj: JsonObject, fdCount: number): ActivateRequest {
  const { type: _, ...config } = validateConfigReply(object(obj, 'config'), 0);
  return { type: 'activate', config, sockets: validateListenSockets(obj, fdCount).sockets };
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
  clusterState: { request: validateEmpty('clusterState'), reply: validateClusterState },
  reload: { request: validateReload, reply: validateReloadReply },
  status: { request: validateStatusRequest, reply: validateStatusReply },
  drainHost: { request: plain((o): DrainHostRequest => (o.graceful === undefined ? { type: 'drainHost' } : { type: 'drainHost', graceful: bool(o, 'graceful') })), reply: plain((o): DrainHostReply => ({ type: 'drainHost', epoch: int(o, 'epoch', 0), connections: int(o, 'connections', 0) })) },
  stop: { request: plain((o): StopRequest => ({ type: 'stop', now: bool(o, 'now') })), reply: plain((o): StopReply => ({ type: 'stop', pid: int(o, 'pid', 0) })) },
  ...ADMIN_METHODS,
  ...WORKER_CRASH_METHODS,
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
