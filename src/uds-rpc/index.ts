/** Public API of the hot-restart RPC. Everything else in this directory is implementation. */
export type {
  ConnectOptions,
  HelloFacts,
  PeerCredentials,
  RequestContext,
  RequestOptions,
  RpcConnection,
  RpcHandler,
  RpcHandlers,
  RpcReceived,
  RpcResult,
  RpcServer,
  RpcServerOptions,
} from './types.js';
export { DEFAULT_REQUEST_TIMEOUT_MS } from './types.js';
export { HOT_RESTART_COMPATIBILITY, PROTOCOL_VERSION, STATS_LAYOUT_VERSION, describeIncompatibility } from './versions.js';
export type {
  ActivateRequest,
  ClusterStateReply,
  ClusterStateRequest,
  ConfigReply,
  DrainEpochRequest,
  DrainHostReply,
  DrainReply,
  EpochState,
  EpochStatusReply,
  EpochStep,
  EpochSummary,
  GetListenSocketsRequest,
  HelloMessage,
  HurryRequest,
  ListenSocketDescriptor,
  ListenSocketsReply,
  PeerRole,
  PingReply,
  PingRequest,
  ReadyRequest,
  ReloadReply,
  ReloadRequest,
  StandbyReadyRequest,
  StandbySummary,
  StatusReply,
  StatusRequest,
  StopReply,
  TerminateRequest,
  TimelineEvent,
  ReplyOf,
  RequestOf,
  RequestType,
  RpcRequest,
} from './messages.js';
export type { HostHealthReply, HostIntent } from './messages-admin.js';
export { MAX_FDS_PER_FRAME, MAX_PAYLOAD_BYTES } from './framing.js';
export { PEER_CREDENTIALS_POLICY, peerCredentialsSupported } from './peercred.js';
export { createRpcServer } from './server.js';
export { connectRpc } from './client.js';
