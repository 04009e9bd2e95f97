/**
 * Reload requests, coalesced. A request that arrives while another is queued (not yet
 * started) joins it: the queued reload then runs the newest request's config, and every
 * caller gets the result of the reload that covered its request (`coalesced: true` when
 * there were several). N requests during a reload therefore cost one more epoch, not N.
 */
import type { ReloadReply } from '../../uds-rpc/index.js';
import type { ConfigVersion } from './config-version.js';

/** What one reload is asked to do. */
export interface ReloadWant {
  config: ConfigVersion;
  /** PROXYCTL_TEST_FAULT for the new epoch, or null. */
  fault: string | null;
  /** `reload --cold`: any request of a batch asking for it makes the batch cold. */
  cold: boolean;
}

interface Waiter {
  resolve(reply: ReloadReply): void;
  reject(err: unknown): void;
}

interface Batch extends ReloadWant {
  waiters: Waiter[];
}

export class ReloadQueue {
  #queued: Batch | null = null;

  /**
   * `schedule` runs a function when the supervisor's one-at-a-time chain gets to it;
   * `run` performs one reload.
   */
  constructor(
    private readonly schedule: (fn: () => Promise<void>) => void,
    private readonly run: (want: ReloadWant) => Promise<ReloadReply>,
  ) {}

  request(want: ReloadWant): Promise<ReloadReply> {
    return new Promise<ReloadReply>((resolve, reject) => {
      const waiter = { resolve, reject };
      const queued = this.#queued;
      if (queued !== null) {
        queued.waiters.push(waiter);
        queued.config = want.config;
        queued.fault = want.fault;
        queued.cold ||= want.cold;
        return;
      }
      const batch: Batch = { ...want, waiters: [waiter] };
      this.#queued = batch;
      this.schedule(() => {
        if (this.#queued === batch) this.#queued = null;
        return this.#runBatch(batch);
      });
    });
  }

  /** Fails every request still waiting for its turn (the supervisor stops). */
  rejectQueued(err: unknown): void {
    const queued = this.#queued;
    this.#queued = null;
    for (const w of queued?.waiters ?? []) w.reject(err);
  }

  async #runBatch(batch: Batch): Promise<void> {
    try {
      const reply = await this.run(batch);
      reply.coalesced = batch.waiters.length > 1;
      for (const w of batch.waiters) w.resolve(reply);
    } catch (err: unknown) {
      for (const w of batch.waiters) w.reject(err);
    }
  }
}
