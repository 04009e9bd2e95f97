/**
 * Versions and compatibility: what two hot-restart peers must agree on before anything else,
 * and the hello each side sends.
 */
import { STATS_LAYOUT_VERSION } from '../shm/layout.js';
import type { HelloMessage } from './messages.js';
import type { HelloFacts } from './types.js';

/** Raise this whenever a message, a field or a framing rule changes meaning. */
export const PROTOCOL_VERSION = 2;

export { STATS_LAYOUT_VERSION };

/**
 * Two processes may hand sockets and share a stats region only if this string is equal on
 * both sides. It is what `proxyctl version` prints and what logs quote on a refusal.
 */
export const HOT_RESTART_COMPATIBILITY = compatibilityString({ protocolVersion: PROTOCOL_VERSION, statsLayoutVersion: STATS_LAYOUT_VERSION });

export function compatibilityString(versions: VersionFacts): string {
  return `proxyctl-hot-restart.protocol-${versions.protocolVersion}.stats-${versions.statsLayoutVersion}`;
}

/** The version facts two peers must agree on. */
export interface VersionFacts {
  protocolVersion: number;
  statsLayoutVersion: number;
}

export function ourVersions(): VersionFacts {
  return { protocolVersion: PROTOCOL_VERSION, statsLayoutVersion: STATS_LAYOUT_VERSION };
}

/**
 * Says what differs between two peers, ours first ("protocol 2 vs 1"), or null when they
 * are compatible. Versions must be equal: neither side knows what a newer number means.
 */
export function describeIncompatibility(ours: VersionFacts, theirs: VersionFacts): string | null {
  const diffs: string[] = [];
  if (ours.protocolVersion !== theirs.protocolVersion) diffs.push(`protocol ${ours.protocolVersion} vs ${theirs.protocolVersion}`);
  if (ours.statsLayoutVersion !== theirs.statsLayoutVersion) diffs.push(`stats layout ${ours.statsLayoutVersion} vs ${theirs.statsLayoutVersion}`);
  return diffs.length === 0 ? null : diffs.join(', ');
}

/** Our hello: the given facts plus this build's versions (unless a test overrides them). */
export function helloMessage(facts: HelloFacts): HelloMessage {
  const versions = ourVersions();
  return {
    type: 'hello',
    protocolVersion: facts.protocolVersion ?? versions.protocolVersion,
    statsLayoutVersion: facts.statsLayoutVersion ?? versions.statsLayoutVersion,
    role: facts.role,
    epoch: facts.epoch,
    pid: facts.pid ?? process.pid,
  };
}
