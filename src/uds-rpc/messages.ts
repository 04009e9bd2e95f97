/**
 * The hot-restart RPC vocabulary: every request type, the body of its reply, and the
 * hand-written validators that turn untrusted JSON into those types.
 *
 * To add a message: declare its request and reply interfaces, add one entry to `RpcMethods`
 * and one to `METHODS` below. The compiler then asks for nothing else; handlers are optional
 * per side, and a side without a handler answers "unrecognized".
 */
import { ProxyctlError } from '../errors.js';
import { STATS_LAYOUT_VERSION } from '../shm/layout.js';
import type { HelloFacts } from './types.js';

/** Raise this whenever a message, a field or a framing rule changes meaning. */
export const PROTOCOL_VERSION = 1;

export { STATS_LAYOUT_VERSION };

/**
 * Two processes may hand sockets and share a stats region only if this string is equal on
 * both sides. It is what `proxyctl version` prints and what logs quote on a refusal.
 */
export const HOT_RESTART_COMPATIBILITY = compatibilityString({ protocolVersion: PROTOCOL_VERSION, statsLayoutVersion: STATS_LAYOUT_VERSION });

export function compatibilityString(versions: VersionFacts): string {
  return `proxyctl-hot-restart.protocol-${versions.protocolVersion}.stats-${versions.statsLayoutVersion}`;
}

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
  /** The listener's name in the config. */
  name: string;
  /** Where it listens, as the config wrote it (`host:port` or a path); informational. */
  address: string;
  fdIndex: number;
}

export interface ListenSocketsReply {
  type: 'getListenSockets';
  sockets: ListenSocketDescriptor[];
}

export interface PingRequest {
  type: 'ping';
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

export type JsonObject = Record<string, unknown>;

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Narrows one decoded JSON payload; throws PROXYCTL_ERR_RPC_PROTOCOL. `fdCount` is how many fds came with it. */
type Validator<T> = (value: JsonObject, fdCount: number) => T;

function invalid(what: string): ProxyctlError {
  return new ProxyctlError('PROXYCTL_ERR_RPC_PROTOCOL', `malformed message: ${what}`, { reason: 'malformed-message' });
}

function int(obj: JsonObject, key: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const v = obj[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw invalid(`${key} must be an integer from ${min} to ${max}`);
  }
  return v;
}

function str(obj: JsonObject, key: string): string {
  const v = obj[key];
  if (typeof v !== 'string') throw invalid(`${key} must be a string`);
  return v;
}

/** For messages that never carry fds: ones that arrive anyway would otherwise leak. */
function noFds(fdCount: number): void {
  if (fdCount !== 0) throw invalid(`${fdCount} unexpected fd(s)`);
}

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
  const list = obj.sockets;
  if (!Array.isArray(list)) throw invalid('sockets must be an array');
  const used = new Set<number>();
  const sockets: ListenSocketDescriptor[] = [];
  for (const item of list) {
    if (!isJsonObject(item)) throw invalid('sockets[] must be objects');
    const fdIndex = int(item, 'fdIndex', 0, fdCount - 1);
    // Two names for one fd would make two listeners close the same descriptor.
    if (used.has(fdIndex)) throw invalid(`fdIndex ${fdIndex} used twice`);
    used.add(fdIndex);
    sockets.push({ name: str(item, 'name'), address: str(item, 'address'), fdIndex });
  }
  return { type: 'getListenSockets', sockets };
}

function validateEmpty<K extends 'getListenSockets' | 'ping'>(type: K): Validator<{ type: K }> {
  return (_obj, fdCount) => {
    noFds(fdCount);
    return { type };
  };
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

/** The version facts two peers must agree on. */
export interface VersionFacts {
  protocolVersion: number;
  statsLayoutVersion: number;
}

export function ourVersions(): VersionFacts {
  return { protocolVersion: PROTOCOL_VERSION, statsLayoutVersion: STATS_LAYOUT_VERSION };
}

/**
 * Says what differs between two peers, ours first ("protocol 2 vs 1"), or null when they
 * are compatible. Versions must be equal: neither side knows what a newer number means.
 */
export function describeIncompatibility(ours: VersionFacts, theirs: VersionFacts): string | null {
  const diffs: string[] = [];
  if (ours.protocolVersion !== theirs.protocolVersion) diffs.push(`protocol ${ours.protocolVersion} vs ${theirs.protocolVersion}`);
  if (ours.statsLayoutVersion !== theirs.statsLayoutVersion) diffs.push(`stats layout ${ours.statsLayoutVersion} vs ${theirs.statsLayoutVersion}`);
  return diffs.length === 0 ? null : diffs.join(', ');
}

/** Our hello: the given facts plus this build's versions (unless a test overrides them). */
export function helloMessage(facts: HelloFacts): HelloMessage {
  const versions = ourVersions();
  return {
    type: 'hello',
    protocolVersion: facts.protocolVersion ?? versions.protocolVersion,
    statsLayoutVersion: facts.statsLayoutVersion ?? versions.statsLayoutVersion,
    role: facts.role,
    epoch: facts.epoch,
    pid: facts.pid ?? process.pid,
  };
}
