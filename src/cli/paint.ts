/**
 * The styles the human renderers (src/cli/render-*.ts) ask for, by meaning rather than by
 * colour. The renderers take a Paint and default to PLAIN, which returns every text as it is:
 * that is what a pipe, `--json`, NO_COLOR, --no-color and TERM=dumb get, byte for byte the
 * output from before there was colour. src/cli/colour.ts decides when, and builds the chalk one.
 * Imports nothing, so the fast path loads chalk only when it colours.
 */

/** How an epoch's or a standby's state reads at a glance. */
export type Tone = 'good' | 'busy' | 'bad' | 'none';

export interface Paint {
  /** A table's header row. */
  header(text: string): string;
  /** A text whose meaning is `tone` (a state, a health). */
  tone(tone: Tone, text: string): string;
  /** A step name in the reload timeline. */
  step(text: string): string;
  /** A total (the reload's last time). */
  total(text: string): string;
  /** The `proxyctl: CODE:` label of an error line (red, the code bold). */
  errorLabel(code: string): string;
}

function same(text: string): string {
  return text;
}

export const PLAIN: Paint = {
  header: same,
  tone: (_tone, text) => text,
  step: same,
  total: same,
  errorLabel: (code) => `proxyctl: ${code}:`,
};

/** The tone of an epoch state as `status` shows it. */
export function stateTone(state: string): Tone {
  switch (state) {
    case 'active':
    case 'standby':
      return 'good';
    case 'draining':
    case 'starting':
    case 'loading':
      return 'busy';
    case 'exited':
    case 'failed':
      return 'bad';
    default:
      return 'none';
  }
}

/** The tone of a host's health in `status --clusters`. */
export function healthTone(health: string | null): Tone {
  if (health === 'healthy') return 'good';
  if (health === 'degraded') return 'busy';
  if (health === 'unhealthy') return 'bad';
  return 'none';
}
