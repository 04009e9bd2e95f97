/**
 * A reload never starts blind: the epoch that serves now is asked what it knows of its hosts
 * (active-check verdicts, outlier ejections) at the moment the next epoch asks for its config
 * (getConfig), or the moment a reload takes the warm standby (activate). A standby spawned long
 * before the reload therefore gets the state of now, not of when it was spawned.
 *
 * The question is short-bounded: a serving epoch busy enough not to answer in time costs the
 * reload at most HANDOFF_TIMEOUT_MS, and the new epoch falls back to its own first check round
 * (bounded on its side too). Nothing is asked when either config has no cluster.
 */
import type { ClusterStateHandoff } from '../../clusters/types.js';
import type { Logger } from '../../log.js';
import { MAX_PAYLOAD_BYTES } from '../../uds-rpc/index.js';
import type { ConfigVersion } from './config-version.js';
import type { Epoch } from './epoch.js';

/** The serving epoch answers from memory on its main thread; 300 ms is long past a busy event loop's turn. */
export const HANDOFF_TIMEOUT_MS = 300;
/** Room in the getConfig / activate frame for everything but the config text and the handoff. */
const FRAME_SLACK_BYTES = 4 * 1024;

/**
 * What `serving` hands to the epoch that will run `next`: its state of the clusters `next`
 * also has, or null (no serving epoch, no cluster on one side, no answer in time, or a
 * handoff too large for the frame that carries it with the config text; the last two are
 * logged).
 */
export async function handoffFor(serving: Epoch | null, next: ConfigVersion, log: Logger): Promise<ClusterStateHandoff | null> {
  if (serving === null || serving.state !== 'active') return null;
  const wanted = new Set(next.loaded.config.clusters.map((c) => c.name));
  if (wanted.size === 0 || serving.config.loaded.config.clusters.length === 0) return null;
  const state = await serving.clusterState(HANDOFF_TIMEOUT_MS);
  if (state === null) {
    log.warn(`epoch ${serving.number} gave no cluster state within ${HANDOFF_TIMEOUT_MS} ms; the new epoch starts from its own first health checks`, { epochPid: serving.pid });
    return null;
  }
  const clusters = Object.fromEntries(Object.entries(state.handoff.clusters).filter(([name]) => wanted.has(name)));
  const handoff: ClusterStateHandoff = { clusters };
  const bytes = Buffer.byteLength(JSON.stringify(handoff)) + Buffer.byteLength(JSON.stringify(next.text));
  if (bytes > MAX_PAYLOAD_BYTES - FRAME_SLACK_BYTES) {
    log.warn('cluster state too large to hand over with the config; the new epoch starts from its own first health checks', { bytes, maxBytes: MAX_PAYLOAD_BYTES - FRAME_SLACK_BYTES });
    return null;
  }
  return handoff;
}
