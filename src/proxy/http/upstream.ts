/**
 * One HTTP/1.1 connection to an upstream endpoint, pooled between requests. It is a thin
 * wrapper: the downstream connection that owns it for one exchange (its `owner`) parses the
 * response, because that is where the bytes are going. Handlers are bound once per socket,
 * never per request.
 */
import type { Socket } from 'node:net';
import { connectUpstream, failedLocally } from '../upstream/connect.js';
import type { EndpointPool, Pooled } from '../upstream/pool.js';
import type { UpstreamOwner } from '../upstream/pool-types.js';

export type { UpstreamOwner } from '../upstream/pool-types.js';

export class UpstreamHttp implements Pooled {
  readonly socket: Socket;
  owner: UpstreamOwner | null = null;
  idleSince = 0;
  requests = 0;
  private connected = false;
  private closed = false;

  constructor(readonly pool: EndpointPool<UpstreamHttp>) {
    const ep = pool.endpoint;
    pool.stats.cxTotal.inc();
    pool.stats.cxActive.inc();
    this.socket = connectUpstream(ep, ep.tls, pool.stats);
    this.socket.on('connect', this.onConnect);
    this.socket.on('data', this.onData);
    this.socket.on('drain', this.onDrain);
    this.socket.on('error', ignoreError); // 'close' follows and carries the consequence
    this.socket.on('close', this.onClose);
  }

  get alive(): boolean {
    return !this.closed && !this.socket.destroyed && this.socket.writable;
  }

  get wasConnected(): boolean {
    return this.connected;
  }

  get failedLocally(): boolean {
    return failedLocally(this.socket);
  }

  /** A reused keep-alive connection that closed: the upstream had closed it before reading the request. */
  get unprocessed(): boolean {
    return this.requests > 1 && this.connected;
  }

  write(chunk: Buffer): boolean {
    return this.socket.write(chunk);
  }

  end(): void {
    this.socket.end();
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  close(): void {
    this.socket.destroy();
  }

  private readonly onConnect = (): void => {
    this.connected = true;
  };

  private readonly onData = (chunk: Buffer): void => {
    const o = this.owner;
    if (o !== null) o.onUpstreamData(chunk);
    else this.socket.destroy(); // bytes on an idle connection: framing doubt, retire it
  };

  private readonly onDrain = (): void => {
    if (this.owner !== null) this.owner.onUpstreamDrain();
  };

  private readonly onClose = (): void => {
    this.closed = true;
    this.pool.stats.cxActive.dec();
    if (!this.connected) this.pool.stats.cxConnectFail.inc();
    this.pool.forget(this);
    const o = this.owner;
    this.owner = null;
    if (o !== null) o.onUpstreamClose(this);
  };
}

function ignoreError(): void {}
