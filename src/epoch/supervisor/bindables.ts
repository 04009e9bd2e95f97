/** Which addresses the supervisor must keep listening on, given its epochs and its config. */
import type { Bindable } from '../socket-keeper.js';
import type { ConfigVersion } from './config-version.js';
import type { Epoch } from './epoch.js';

/** The admin endpoint of `config`, as a list of zero or one. */
export function adminBindables(config: ConfigVersion): Bindable[] {
  const admin = config.loaded.config.admin;
  return admin === null ? [] : [admin];
}

/**
 * Every address a live epoch or the current config listens on; the keeper closes the rest.
 * While the host is drained its listeners stay closed; admin sockets always stay.
 */
export function bindablesInUse(live: readonly Epoch[], current: ConfigVersion): (readonly Bindable[])[] {
  const configs = live.filter((e) => !e.hostDrained).map((e) => e.config);
  if (!live.some((e) => e.hostDrained)) configs.push(current);
  return [...configs.map((c) => c.loaded.config.listeners), ...configs.map(adminBindables), adminBindables(current)];
}
