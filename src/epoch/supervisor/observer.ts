import type { Epoch } from './epoch.js';

/** What an observer may read of an epoch: enough for a one-line summary. */
export type ObservedEpoch = Pick<Epoch, 'number' | 'state' | 'hostDrained' | 'connections'>;

/**
 * Whoever watches the supervisor from outside (systemd, through src/systemd/notify.ts). The
 * supervisor calls these synchronously at each turn of its life; an implementation must not
 * throw and must not block.
 */
export interface SupervisorObserver {
  /** Epoch 0 is ready: the service is up. `epochs`: the live epochs. */
  ready(epochs: readonly ObservedEpoch[]): void;
  /** A reload (`proxyctl reload`, SIGHUP) begins: the next epoch is about to be brought up. */
  reloadStarted(): void;
  /** That reload ended. A failed one left the serving epoch serving, so either way the service is ready again. */
  reloadEnded(ok: boolean): void;
  /** A stop begins (SIGTERM, `proxyctl stop`): no more reloads, every epoch drains. */
  stopping(): void;
  /** An epoch became active, began draining, left rotation or exited. `epochs`: the live ones now. */
  epochsChanged(epochs: readonly ObservedEpoch[]): void;
  /** The supervisor has stopped (or never started): let go of every timer. */
  stopped(): void;
}

/** The observer of a supervisor nobody watches. */
export const NO_OBSERVER: SupervisorObserver = {
  ready() {},
  reloadStarted() {},
  reloadEnded() {},
  stopping() {},
  epochsChanged() {},
  stopped() {},
};
