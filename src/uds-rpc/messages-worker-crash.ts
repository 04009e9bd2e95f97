/**
 * A serving epoch's worker thread died (epoch → supervisor). The epoch serves on with its
 * other workers and asks to be replaced: the supervisor brings up a new epoch on the current
 * config, as a reload would, and the crashed one then drains gracefully with the rest. An older
 * supervisor answers unrecognized; the epoch then exits 70 and is respawned, as before.
 */

export interface WorkerCrashedRequest {
  type: 'workerCrashed';
  /** The worker's index in its epoch. */
  worker: number;
  /** What ended it (`uncaught Error: …`, `exited with code N`), for the supervisor's log. */
  reason: string;
}

export interface WorkerCrashedReply {
  type: 'workerCrashed';
  /**
   * True: a replacement epoch is on its way, and this one will be told to drain. False: this
   * epoch is not the active one (it is draining already), so nothing replaces it.
   */
  replacing: boolean;
}
