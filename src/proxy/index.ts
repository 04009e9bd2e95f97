/** The data plane: one `DataPlane` per worker thread. */
export { DataPlane, DEFAULT_TIMEOUTS, TICK_MS } from './data-plane.js';
export { buildSnapshot } from './snapshot.js';
export { NETWORK_FILTERS } from './filters/index.js';
export { LB_POLICIES } from './lb/index.js';
export type * from './types.js';
export { requestedServerName } from './tls/termination.js';
export { connectUpstream } from './upstream/connect.js';
export type { ConnectionLimitsInit, ListenSource } from './limits/types.js';
