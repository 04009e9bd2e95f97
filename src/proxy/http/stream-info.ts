/** `StreamInfo` for one exchange: what filters, header templates and access logs read. */
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { requestedServerName } from '../tls/termination.js';
import { addResponseFlag } from './filter-chain-direction.js';
import type { StreamInfo } from './filter.js';
import { clientAddress, clientPort, localAddress, localPort } from '../client-address.js';

export class ExchangeInfo implements StreamInfo {
  readonly downstreamRemoteAddress: string;
  readonly downstreamRemotePort: number;
  readonly downstreamLocalAddress: string;
  readonly downstreamLocalPort: number;
  readonly requestedServerName: string;
  readonly startTime = Date.now();
  readonly startMonotonic = performance.now();
  routeName = '';
  clusterName = '';
  upstreamHost = '';
  responseFlags = '';
  private id: string;

  constructor(
    readonly listenerName: string,
    readonly protocol: string,
    socket: Socket,
    requestId: string | undefined,
  ) {
    this.downstreamRemoteAddress = clientAddress(socket);
    this.downstreamRemotePort = clientPort(socket);
    this.downstreamLocalAddress = localAddress(socket);
    this.downstreamLocalPort = localPort(socket);
    this.requestedServerName = requestedServerName(socket) ?? '';
    this.id = requestId ?? '';
  }

  /** The request's id: the client's `x-request-id`, or one made on first use. */
  get requestId(): string {
    if (this.id === '') this.id = randomUUID();
    return this.id;
  }

  addFlag(flag: string): void {
    addResponseFlag(this, flag);
  }

}
