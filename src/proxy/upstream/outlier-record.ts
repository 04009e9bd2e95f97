// Interim (replaced by feat/outlier).
import { HostSlot, type OutlierKind } from '../../clusters/types.js';
export const LOCAL_CONNECT_FAILURE = -1;
export const LOCAL_RESET = -2;
export const LOCAL_TIMEOUT = -3;
export function recordOutcome(counters: Int32Array, status: number, cfg: { consecutive5xx: number; consecutiveGatewayFailure: number } | null): OutlierKind | null {
  if (cfg === null) return null;
  const local = status < 0;
  if (!local && status < 500) {
    if (Atomics.load(counters, HostSlot.CONSECUTIVE_5XX) !== 0) Atomics.store(counters, HostSlot.CONSECUTIVE_5XX, 0);
    if (Atomics.load(counters, HostSlot.CONSECUTIVE_GATEWAY) !== 0) Atomics.store(counters, HostSlot.CONSECUTIVE_GATEWAY, 0);
    return null;
  }
  const n5 = Atomics.add(counters, HostSlot.CONSECUTIVE_5XX, 1) + 1;
  if (cfg.consecutive5xx > 0 && n5 === cfg.consecutive5xx) return 'consecutive5xx';
  if (local || status === 502 || status === 503 || status === 504) {
    const ng = Atomics.add(counters, HostSlot.CONSECUTIVE_GATEWAY, 1) + 1;
    if (cfg.consecutiveGatewayFailure > 0 && ng === cfg.consecutiveGatewayFailure) return 'consecutiveGatewayFailure';
  }
  return null;
}
