/** The network filter for each listener protocol: adding one is a new file plus one line here. */
import type { ListenerProtocol } from '../../config/types.js';
import type { NetworkFilterFactory } from '../connection-types.js';
import { httpConnectionManager } from './http-connection-manager.js';
import { tcpProxy } from './tcp-proxy.js';

export const NETWORK_FILTERS: Readonly<Record<ListenerProtocol, NetworkFilterFactory>> = {
  http: httpConnectionManager,
  tcp: tcpProxy,
};
