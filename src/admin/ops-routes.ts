/**
 * The host's rotation: `/ready` (GET) and what an operator or orchestrator asks of the whole
 * proxyctl (POST): `/healthcheck/fail`, `/healthcheck/ok`, `/drain_listeners`, `/quitquitquit`.
 * The POST routes go through the supervisor (AdminHost), so what they set outlives this
 * epoch and `proxyctl status` agrees with it. A refusal (no epoch active, stopping) answers
 * 503 with `<code>: <message>`.
 */
import { isProxyctlError } from '../errors.js';
import { send, sendJson, TEXT } from './respond.js';
import type { AdminRequest, AdminRoute } from './types.js';

function ready({ facts, res }: AdminRequest): void {
  if (facts.draining()) send(res, 503, TEXT, 'DRAINING\n');
  else if (facts.host.healthFailed()) send(res, 503, TEXT, 'HEALTH_CHECK_FAILED\n');
  else send(res, 200, TEXT, 'LIVE\n');
}

async function refusedOr(r: AdminRequest, action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (err: unknown) {
    if (!isProxyctlError(err)) throw err;
    send(r.res, 503, TEXT, `${err.code}: ${err.message}\n`);
  }
}

function healthcheck(failed: boolean) {
  return (r: AdminRequest): Promise<void> =>
    refusedOr(r, async () => {
      await r.facts.host.setHealthFailed(failed);
      send(r.res, 200, TEXT, failed ? 'OK: health checks fail\n' : 'OK: health checks pass\n');
    });
}

function drainListeners(r: AdminRequest): Promise<void> {
  return refusedOr(r, async () => {
    const drained = await r.facts.host.drainListeners(r.query.has('graceful'));
    sendJson(r.res, 200, { drained: true, epoch: drained.epoch, connections: drained.connections });
  });
}

function quit(r: AdminRequest): Promise<void> {
  return refusedOr(r, async () => {
    const pid = await r.facts.host.quit();
    send(r.res, 200, TEXT, `OK: supervisor ${pid} stopping\n`);
  });
}

export const OPS_ROUTES: readonly AdminRoute[] = [
  { path: '/ready', method: 'GET', help: '200 LIVE while serving; 503 while draining or after /healthcheck/fail', handle: ready },
  { path: '/healthcheck/fail', method: 'POST', help: 'fail inbound health checks (/ready 503) until /healthcheck/ok; survives reloads', handle: healthcheck(true) },
  { path: '/healthcheck/ok', method: 'POST', help: 'pass inbound health checks again', handle: healthcheck(false) },
  { path: '/drain_listeners', method: 'POST', help: 'as `proxyctl drain`: stop accepting, leave rotation; ?graceful keeps the drain strategy', handle: drainListeners },
  { path: '/quitquitquit', method: 'POST', help: 'as `proxyctl stop`: drain every epoch and exit', handle: quit },
];
