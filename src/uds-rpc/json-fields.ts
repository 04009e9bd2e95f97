/**
 * Readers that turn one decoded JSON payload into typed fields, or throw
 * PROXYCTL_ERR_RPC_PROTOCOL naming the field. messages.ts builds every message's validator
 * from these.
 */
import { ProxyctlError } from '../errors.js';

export type JsonObject = Record<string, unknown>;

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Narrows one decoded JSON payload; throws PROXYCTL_ERR_RPC_PROTOCOL. `fdCount` is how many fds came with it. */
export type Validator<T> = (value: JsonObject, fdCount: number) => T;

export function invalid(what: string): ProxyctlError {
  return new ProxyctlError('PROXYCTL_ERR_RPC_PROTOCOL', `malformed message: ${what}`, { reason: 'malformed-message' });
}

export function int(obj: JsonObject, key: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const v = obj[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw invalid(`${key} must be an integer from ${min} to ${max}`);
  }
  return v;
}

export function str(obj: JsonObject, key: string): string {
  const v = obj[key];
  if (typeof v !== 'string') throw invalid(`${key} must be a string`);
  return v;
}

export function strOrNull(obj: JsonObject, key: string): string | null {
  return obj[key] === null ? null : str(obj, key);
}

export function bool(obj: JsonObject, key: string): boolean {
  const v = obj[key];
  if (typeof v !== 'boolean') throw invalid(`${key} must be a boolean`);
  return v;
}

export function oneOf<T extends string>(obj: JsonObject, key: string, values: readonly T[]): T {
  const v = obj[key];
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) throw invalid(`${key} must be one of ${values.join(', ')}`);
  return v as T;
}

export function objects(obj: JsonObject, key: string): JsonObject[] {
  const list = obj[key];
  if (!Array.isArray(list) || !list.every(isJsonObject)) throw invalid(`${key} must be an array of objects`);
  return list;
}

export function object(obj: JsonObject, key: string): JsonObject {
  const v = obj[key];
  if (!isJsonObject(v)) throw invalid(`${key} must be an object`);
  return v;
}

/** For messages that never carry fds: ones that arrive anyway would otherwise leak. */
export function noFds(fdCount: number): void {
  if (fdCount !== 0) throw invalid(`${fdCount} unexpected fd(s)`);
}

/** A message that is its type and nothing else (requests with no fields, plain acks). */
export function validateEmpty<K extends string>(type: K): Validator<{ type: K }> {
  return (_obj, fdCount) => {
    noFds(fdCount);
    return { type };
  };
}

/** Wraps a validator of a message that never carries fds. */
export function plain<T>(validate: (obj: JsonObject) => T): Validator<T> {
  return (obj, fdCount) => {
    noFds(fdCount);
    return validate(obj);
  };
}

