/**
 * Watching the supervisor while a command waits: the epochs' state, connections and drain
 * deadlines come from `status`, asked on a second connection of the command's own (the
 * supervisor answers status while a reload or a stop is under way). Used for the progress line
 * of `reload` and `stop`, and for `drain --wait`, which waits on it.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { connectSupervisor, request } from '../control/client.js';
import type { BaseIdPaths } from '../runtime-dir.js';
import type { EpochSummary, RpcConnection } from '../uds-rpc/index.js';
import { progressText, type Progress } from './progress.js';

/** How often status is asked: four redraws a second are smooth enough and cost the supervisor little. */
const POLL_MS = 250;
/** One status answer; the supervisor asks each epoch with a 2 s deadline of its own. */
const STATUS_TIMEOUT_MS = 10_000;
/** `drain --wait` against a supervisor that sends no drain deadline (it predates them): give up after this. */
const WAIT_WITHOUT_DEADLINE_MS = 5 * 60_000;

/**
 * Shows `label`, the time since it began and every live epoch on `progress` until the returned
 * function is called (which erases the line). Never fails: a supervisor that goes away or does
 * not answer just ends the updates.
 */
export function showProgress(paths: BaseIdPaths, baseId: number, label: string, progress: Progress): () => Promise<void> {
  const started = Date.now();
  const abort = new AbortController();
  const { signal } = abort;
  const loop = (async () => {
    let conn: RpcConnection | null = null;
    try {
      conn = await connectSupervisor(paths, baseId);
      // Closing rejects a status request in flight, so the command does not wait for its answer.
      signal.addEventListener('abort', conn.close.bind(conn), { once: true });
      while (!signal.aborted) {
        const { epochs } = await request(conn, { type: 'status' }, STATUS_TIMEOUT_MS);
        if (signal.aborted) break;
        progress.update(progressText(label, Date.now() - started, epochs));
        await delay(POLL_MS, undefined, { signal });
      }
    } catch {
      // Gone (a stop ends with the supervisor), or ended below: no more updates.
    } finally {
      // Also when the command ended while this was still connecting.
      conn?.close();
    }
  })();
  return async () => {
    abort.abort();
    await loop;
    progress.clear();
  };
}

/** How `drain --wait` ended: the connections still open (null: the epoch did not say), 0 once drained. */
export interface DrainWait {
  remaining: number | null;
}

function drained(e: EpochSummary | undefined): boolean {
  return e === undefined || e.state === 'exited' || e.connections === 0;
}

/**
 * Waits until epoch `epoch` has no connection left (or has exited), or its drain deadline has
 * passed, showing it on `progress`.
 */
export async function waitForDrain(paths: BaseIdPaths, baseId: number, epoch: number, progress: Progress | null): Promise<DrainWait> {
  const started = Date.now();
  const conn = await connectSupervisor(paths, baseId);
  try {
    for (;;) {
      const { epochs } = await request(conn, { type: 'status' }, STATUS_TIMEOUT_MS);
      const e = epochs.find((x) => x.epoch === epoch);
      if (drained(e)) return { remaining: 0 };
      const overdue = e!.drainLeftMs === undefined ? Date.now() - started >= WAIT_WITHOUT_DEADLINE_MS : e!.drainLeftMs <= 0;
      if (overdue) return { remaining: e!.connections };
      progress?.update(progressText(`draining epoch ${epoch}`, Date.now() - started, [e!]));
      await delay(POLL_MS);
    }
  } finally {
    conn.close();
    progress?.clear();
  }
}
