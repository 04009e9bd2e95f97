/**
 * What the supervisor answers on the hot-restart socket, split by who may ask: epochs ask
 * for their config, their sockets and to be declared ready (a standby: declared warm); the command line asks for
 * reloads, status, drain and stop. A peer asking the other side's questions is refused.
 */
import type { ClusterStateHandoff } from '../../clusters/types.js';
import { ProxyctlError } from '../../errors.js';
import type { ConfigReply, DrainHostReply, HostIntent, ListenSocketDescriptor, ReloadReply, RequestContext, RpcConnection, RpcHandlers, StatusReply } from '../../uds-rpc/index.js';
import type { Bindable, SocketKeeper } from '../socket-keeper.js';
import type { ConfigVersion } from './config-version.js';
import type { Epoch } from './epoch.js';

/** The supervisor as its handlers see it. */
export interface SupervisorControl {
  readonly workersOverride: number | null;
  readonly keeper: SocketKeeper;
  /** The epoch on the other end of `conn`, if it is one of ours. */
  epochOn(conn: RpcConnection): Epoch | undefined;
  /** What the serving epoch hands to an epoch that will run `next` (cluster-handoff.ts); null if nothing. */
  servingHandoff(next: ConfigVersion): Promise<ClusterStateHandoff | null>;
  reload(configPath: string | null, fault: string | null, cold: boolean): Promise<ReloadReply>;
  /** `clusters`: add the serving epoch's cluster views (`status --clusters`). */
  status(clusters: boolean): Promise<StatusReply>;
  /** `graceful` false: drain with the immediate strategy instead of the config's. */
  drainHost(graceful?: boolean): Promise<DrainHostReply>;
  stop(now: boolean): Promise<void>;
  /** The operator's intent for the host, as every new epoch gets it with its config. */
  hostIntent(): HostIntent;
  /** Admin `/healthcheck/fail` (true) or `/healthcheck/ok` (false). */
  setHostHealthFailed(failed: boolean): void;
  /** `epoch` lost worker `worker` and serves on: true if a replacement is brought up (it is the active one). */
  replaceCrashed(epoch: Epoch, worker: number, reason: string): boolean;
}

export function supervisorHandlers(sup: SupervisorControl): RpcHandlers {
  const epochOf = (ctx: RequestContext): Epoch => {
    const epoch = sup.epochOn(ctx.connection);
    if (epoch === undefined) throw new ProxyctlError('PROXYCTL_ERR_RPC_PROTOCOL', 'only an epoch of this supervisor may ask that');
    return epoch;
  };
  const requireCli = (ctx: RequestContext): void => {
    if (ctx.connection.peer?.role !== 'cli') throw new ProxyctlError('PROXYCTL_ERR_RPC_PROTOCOL', 'only the proxyctl command line may ask that');
  };
  /** What the command line may ask, admin's `/drain_listeners` and `/quitquitquit` ask through an epoch of ours. */
  const requireCliOrEpoch = (ctx: RequestContext): void => {
    if (ctx.connection.peer?.role !== 'cli') epochOf(ctx);
  };
  return {
    getConfig: async (_req, ctx) => {
      const epoch = epochOf(ctx);
      // Asked now, not when the epoch was spawned: the state of the moment it starts from.
      const clusterState = await sup.servingHandoff(epoch.config);
      return { body: { type: 'getConfig', ...configFor(epoch, sup.workersOverride, clusterState, sup.hostIntent()) } };
    },
    getListenSockets: (_req, ctx) => {
      const epoch = epochOf(ctx);
      const reply = handOver(sup.keeper, epoch);
      epoch.socketsSent.resolve(reply.fds.length);
      return reply;
    },
    ready: (req, ctx) => {
      const epoch = epochOf(ctx);
      if (epoch.state !== 'starting') throw new ProxyctlError('PROXYCTL_ERR_EPOCH_FAILED', `epoch ${epoch.number} is ${epoch.state}, not starting`);
      epoch.ready.resolve({ workers: req.workers, sockets: req.sockets, steps: req.steps });
      return { body: { type: 'ready' } };
    },
    standbyReady: (req, ctx) => {
      const epoch = epochOf(ctx);
      if (!epoch.standby) throw new ProxyctlError('PROXYCTL_ERR_RPC_PROTOCOL', `epoch ${epoch.number} is not a standby`);
      epoch.warm.resolve({ workers: req.workers, steps: req.steps });
      return { body: { type: 'standbyReady' } };
    },
    reload: async (req, ctx) => {
      requireCli(ctx);
      return { body: await sup.reload(req.configPath, req.testFault, req.cold === true) };
    },
    status: async (req, ctx) => {
      requireCli(ctx);
      return { body: await sup.status(req.clusters === true) };
    },
    drainHost: async (req, ctx) => {
      requireCliOrEpoch(ctx);
      return { body: await sup.drainHost(req.graceful !== false) };
    },
    stop: (req, ctx) => {
      requireCliOrEpoch(ctx);
      // Answered at once; the caller watches the supervisor's pid to see the end.
      void sup.stop(req.now);
      return { body: { type: 'stop', pid: process.pid } };
    },
    // The admin endpoint's health-check flag: any epoch of ours serves admin, so any may ask.
    hostHealth: (req, ctx) => {
      epochOf(ctx);
      sup.setHostHealthFailed(req.failed);
      return { body: { type: 'hostHealth', failed: req.failed } };
    },
    workerCrashed: (req, ctx) => ({ body: { type: 'workerCrashed', replacing: sup.replaceCrashed(epochOf(ctx), req.worker, req.reason) } }),
  };
}

/**
 * What an epoch gets to run: the config text (it parses it itself), the worker override, the
 * serving epoch's cluster state and the operator's intent for the host.
 */
export function configFor(epoch: Epoch, workersOverride: number | null, clusterState: ClusterStateHandoff | null, intent: HostIntent): Omit<ConfigReply, 'type'> {
  return { source: epoch.config.path, text: epoch.config.text, workersOverride, clusterState, ...intent };
}

/** Copies of every socket of the epoch's config: all worker slots of every listener, and the admin socket. */
export function handOver(keeper: SocketKeeper, epoch: Epoch): { body: { type: 'getListenSockets'; sockets: ListenSocketDescriptor[] }; fds: number[] } {
  const sockets: ListenSocketDescriptor[] = [];
  const fds: number[] = [];
  const add = (kind: ListenSocketDescriptor['kind'], name: string, of: Bindable): void => {
    for (const s of keeper.socketsFor([of])) {
      sockets.push({ kind, name, address: s.address, slot: s.slot, fdIndex: fds.length });
      fds.push(s.fd);
    }
  };
  const config = epoch.config.loaded.config;
  for (const l of config.listeners) add('listener', l.name, l);
  if (config.admin !== null) add('admin', 'admin', config.admin);
  return { body: { type: 'getListenSockets', sockets }, fds };
}
