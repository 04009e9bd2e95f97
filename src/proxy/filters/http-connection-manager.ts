/** Network filter `http_connection_manager`: HTTP/1.1 codec, router and upstream exchange. */
import { HttpConnection } from '../http/connection.js';
import type { NetworkFilterFactory } from '../connection-types.js';

export const httpConnectionManager: NetworkFilterFactory = {
  name: 'http_connection_manager',
  protocol: 'http',
  accept: (socket, ctx) => new HttpConnection(socket, ctx),
};
