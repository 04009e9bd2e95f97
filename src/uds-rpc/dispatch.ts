/**
 * Turning one received request into one reply: the policy half of a connection. The
 * connection (connection.ts) owns bytes, ids and timers; a RequestRouter decides what to
 * answer. The server wraps routeToHandlers() in its hello gate; the client uses it bare.
 */
import { ProxyctlError, errnoCode } from '../errors.js';
import { closeFds } from './framing.js';
import type { JsonObject, ReplyPayload, RpcRequest } from './messages.js';
import { METHODS, isRequestType } from './validate.js';
import type { RequestContext, RpcConnection, RpcHandlers, RpcResult } from './types.js';

/** A request as it came off the wire: `type` is any string, the rest is unchecked JSON. */
export interface IncomingRequest {
  type: string;
  message: JsonObject;
  /** Received with the request; whoever routes it must hand them on or close them. */
  fds: number[];
}

export interface OutgoingReply {
  payload: ReplyPayload;
  /** Sent with an ok reply; they stay open on this side. */
  fds?: readonly number[] | undefined;
  /** Runs once the reply is queued, so anything it sends goes out after the reply. */
  onQueued?: () => void;
  /** Close the connection with this reason once the reply has been written. */
  closeAfter?: ProxyctlError;
}

/** `C`: the connection type the router needs (the server's hello gate needs its own). */
export interface RequestRouter<C extends RpcConnection = RpcConnection> {
  /** Decides the reply to one request. Must not throw. */
  route(request: IncomingRequest, connection: C): OutgoingReply | Promise<OutgoingReply>;
}

/** The handler shape after the per-type correlation is erased (see routeToHandlers). */
type ErasedHandler = (request: RpcRequest, context: RequestContext) => RpcResult<object> | Promise<RpcResult<object>>;

/** An error reply that carries `err`'s own code, so the requester can report it. */
export function errorReply(err: unknown): OutgoingReply {
  if (err instanceof ProxyctlError) {
    return { payload: { status: 'error', code: err.code, message: err.message, details: { ...err.details } } };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { payload: { status: 'error', code: errnoCode(err) ?? 'ERR_HANDLER_FAILED', message } };
}

/**
 * Validates the request and calls its handler. A type this side has no handler for gets an
 * explicit "unrecognized" reply, never silence, so a newer peer learns at once that we are
 * older instead of waiting out its deadline.
 */
export async function routeToHandlers(handlers: RpcHandlers, request: IncomingRequest, connection: RpcConnection): Promise<OutgoingReply> {
  const { type, fds } = request;
  const found = isRequestType(type) && type !== 'hello' ? handlers[type] : undefined;
  if (found === undefined) {
    closeFds(fds);
    return { payload: { status: 'unrecognized', type } };
  }
  let message: RpcRequest;
  try {
    message = METHODS[type as RpcRequest['type']].request(request.message, fds.length);
  } catch (err: unknown) {
    closeFds(fds);
    return errorReply(err);
  }
  // METHODS[type] and handlers[type] belong to the same `type`, which TypeScript cannot
  // correlate through a union; the erasure is sound because both come from one key.
  const handler = found as ErasedHandler;
  try {
    const result = await handler(message, { connection, fds });
    return { payload: { status: 'ok', body: result.body }, fds: result.fds };
  } catch (err: unknown) {
    return errorReply(err);
  }
}

/** The client side's router: no hello gate, just the handler table. */
export class HandlerRouter implements RequestRouter {
  constructor(private readonly handlers: RpcHandlers) {}

  route(request: IncomingRequest, connection: RpcConnection): Promise<OutgoingReply> {
    return routeToHandlers(this.handlers, request, connection);
  }
}
