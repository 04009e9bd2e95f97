/**
 * Network filter `http_connection_manager`: HTTP/1.1, and HTTP/2 when ALPN chose it or, on a
 * listener with `http2: true`, when the client opens with the HTTP/2 preface.
 */
import type { TLSSocket } from 'node:tls';
import type { NetworkFilterFactory } from '../connection-types.js';
import { HttpConnection } from '../http/connection.js';
import { PrefaceSniffer } from '../http2/preface.js';
import { Http2Connection } from '../http2/session.js';
import type { HttpListenerSnapshot } from '../types.js';

export const httpConnectionManager: NetworkFilterFactory = {
  name: 'http_connection_manager',
  protocol: 'http',
  accept: (socket, ctx) => {
    if ((socket as Partial<TLSSocket>).alpnProtocol === 'h2') return new Http2Connection(socket, ctx);
    if ((ctx.listener as HttpListenerSnapshot).http2) return new PrefaceSniffer(socket, ctx);
    return new HttpConnection(socket, ctx);
  },
};
