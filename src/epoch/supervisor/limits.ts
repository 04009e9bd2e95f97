/** The supervisor's fixed limits; no imports, so the systemd unit renderer can read them cheaply. */

/** One active epoch and two draining ones; a reload that would need a fourth hurries the oldest. */
export const MAX_LIVE_EPOCHS = 3;
/** How long a hurried epoch's busy connections get to take their `Connection: close`. */
export const HURRY_GRACE_MS = 1_000;
/** How long a stop waits past `parentShutdownTime` before it kills an epoch that overstays (the systemd unit's TimeoutStopSec counts it). */
export const STOP_OVERSTAY_MS = 5_000;
