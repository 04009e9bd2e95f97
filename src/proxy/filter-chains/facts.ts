/** What a listener knows about a connection once its listener filters are done (types.ts, ConnectionFacts). */
import type { Socket } from 'node:net';
import { addressBytes } from '../../config/cidr.js';
import { clientAddress, localPort } from '../client-address.js';
import { inspectedHello } from '../listener-filters/index.js';
import type { ConnectionFacts } from './types.js';

const NO_ALPN: readonly string[] = Object.freeze([]);

/** Addresses after the PROXY protocol (client-address.ts); SNI and ALPN from the TLS inspector. */
export function connectionFacts(socket: Socket): ConnectionFacts {
  const hello = inspectedHello(socket);
  return {
    destinationPort: localPort(socket),
    source: addressBytes(clientAddress(socket)),
    serverName: hello === null ? null : hello.serverName,
    alpn: hello === null ? NO_ALPN : hello.alpn,
    transport: hello === null ? 'raw' : 'tls',
  };
}
