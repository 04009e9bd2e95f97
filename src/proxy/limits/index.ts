/** Connection limits and accept failures, as one listener of one worker sees them (see types.ts). */
import type { StatsStore } from '../../shm/types.js';
import type { ProxyLogger } from '../types.js';
import { AcceptErrors } from './accept-errors.js';
import type { ConnectionLimits, ListenerGate } from './gate.js';
import type { Pausable } from './types.js';

export interface ListenerLimits {
  /** Null when no cap applies to the listener. */
  readonly gate: ListenerGate | null;
  /** For every listening handle's 'error': counts `listener.<name>.downstream_cx_overflow` and logs, rate-limited. */
  readonly onAcceptError: (err: Error) => void;
}

export function listenerLimits(limits: ConnectionLimits | null, name: string, owner: Pausable, stats: StatsStore, log: ProxyLogger): ListenerLimits {
  return {
    gate: limits === null ? null : limits.gateFor(name, owner, stats),
    onAcceptError: new AcceptErrors(name, stats.counter(`listener.${name}.downstream_cx_overflow`), log).onError,
  };
}
