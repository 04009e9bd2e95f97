/**
 * When the supervisor starts a new epoch after the active one died: at once the first time,
 * then with an exponential backoff while respawns keep failing, so a config or code that
 * crashes on start does not spin. An epoch that lived long enough resets the backoff.
 */

/** First retry after a failed respawn; doubles per failure up to the maximum. */
const FIRST_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 10_000;
/** An active epoch that lived this long resets the backoff: it was not a crash loop. */
const STABLE_MS = 30_000;

export class RespawnBackoff {
  #timer: NodeJS.Timeout | null = null;
  #failures = 0;

  /** True while a respawn is scheduled and has not run yet. */
  get pending(): boolean {
    return this.#timer !== null;
  }

  /** The active epoch died after `uptimeMs`: a long life forgives the failures before it. */
  died(uptimeMs: number): void {
    if (uptimeMs >= STABLE_MS) this.#failures = 0;
  }

  /** Runs `respawn` after the current backoff; a no-op while one is already scheduled. */
  schedule(respawn: () => void): void {
    if (this.#timer !== null) return;
    const delay = this.#failures === 0 ? 0 : Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** (this.#failures - 1));
    this.#failures++;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      respawn();
    }, delay);
  }

  cancel(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
