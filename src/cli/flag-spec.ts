/**
 * Every flag of every proxyctl command, as plain data. This is the one place a flag is
 * defined: the oclif command classes build their `Flags.*` from it (src/cli/oclif-flags.ts),
 * and the fast path for the control commands (src/cli/fast-path.ts) parses argv with it, so
 * the two cannot drift. This module imports nothing, so the fast path can read it without
 * loading oclif. `--json` is not here: oclif adds it through `enableJsonFlag`.
 */

interface CommonSpec {
  description: string;
  /** oclif's help section; the shared flags are listed under GLOBAL. */
  helpGroup?: 'GLOBAL';
  /** What the value is, in --help and proxyctl(1): `--config <file>`. */
  helpValue?: string;
}

export interface BooleanFlagSpec extends CommonSpec {
  kind: 'boolean';
  default: boolean;
}

export interface IntegerFlagSpec extends CommonSpec {
  kind: 'integer';
  default?: number;
  min: number;
  max: number;
}

export interface StringFlagSpec extends CommonSpec {
  kind: 'string';
  default?: string;
}

export type FlagSpec = BooleanFlagSpec | IntegerFlagSpec | StringFlagSpec;
export type FlagSpecs = Readonly<Record<string, FlagSpec>>;

/** The parsed value of one flag: what `this.parse` (oclif) and the fast path both return. */
export type FlagValue<S extends FlagSpec> = S extends BooleanFlagSpec
  ? boolean
  : S extends IntegerFlagSpec
    ? S extends { default: number }
      ? number
      : number | undefined
    : S extends { default: string }
      ? string
      : string | undefined;

export type FlagValues<T extends FlagSpecs> = { [K in keyof T]: FlagValue<T[K]> };

/** The flags every command takes (oclif `baseFlags`), besides `--json`. */
export const BASE_FLAGS = {
  'base-id': {
    kind: 'integer',
    description: 'Which proxyctl instance on this host (several can run side by side).',
    default: 0,
    min: 0,
    max: 65535,
    helpGroup: 'GLOBAL',
  },
  'runtime-dir': {
    kind: 'string',
    helpValue: 'dir',
    description: 'Directory for sockets and the stats region. Default: $PROXYCTL_RUNTIME_DIR, then $XDG_RUNTIME_DIR/proxyctl, then /run/proxyctl (root) or /tmp/proxyctl-<uid>.',
    helpGroup: 'GLOBAL',
  },
  'no-color': {
    kind: 'boolean',
    description: 'No colour, even on a terminal (as NO_COLOR=1 or TERM=dumb). Colour is only ever used on a terminal, and never with --json.',
    default: false,
    helpGroup: 'GLOBAL',
  },
} as const satisfies FlagSpecs;

/** Each command's own flags (oclif `flags`). */
export const COMMAND_FLAGS = {
  start: {
    config: { kind: 'string', helpValue: 'file', description: 'Config file. Default: the bundled config/default.yaml (127.0.0.1:8080 answering "ok").' },
    daemon: { kind: 'boolean', description: 'Return once epoch 0 is ready; the supervisor runs on in the background.', default: false },
    workers: { kind: 'integer', description: 'Worker threads per epoch, overriding the config for every epoch of this supervisor.', min: 1, max: 64 },
    'log-file': { kind: 'string', helpValue: 'file', description: 'Append the log here instead of stderr (default with --daemon: <runtime-dir>/base-<id>/proxyctl.log). SIGUSR1 reopens it.' },
    'log-format': { kind: 'string', helpValue: 'json|pretty', description: 'json (one JSON object a line) or pretty (for people). Default: pretty when stderr is a terminal and there is no --log-file, json otherwise, so journald and log files get JSON.' },
    'log-level': { kind: 'string', helpValue: 'level', description: "debug, info, warn or error: the supervisor's level and every epoch's at its start (an epoch's own can be changed at its admin /logging).", default: 'info' },
    'ready-timeout': { kind: 'string', helpValue: 'duration', description: 'How long a new epoch may take from spawn to ready before it is killed and the reload fails.', default: '30s' },
    'stats-capacity': { kind: 'integer', helpValue: 'entries', description: 'How many stats the shared stats region holds (with 64 name bytes and 128 value words each), fixed for the life of the supervisor. Past it, new stats are counted in stats.overflow and kept out of proxyctl stats.', default: 8192, min: 64, max: 1048576 },
  },
  reload: {
    config: { kind: 'string', helpValue: 'file', description: 'Switch to this config file (default: re-read the current one).' },
    cold: { kind: 'boolean', description: 'Skip the warm standby and start a fresh epoch, as after a code change.', default: false },
  },
  drain: {
    wait: { kind: 'boolean', description: 'Wait until the connections have drained (or the drain deadline has passed), showing them on a terminal.', default: false },
  },
  stop: {
    now: { kind: 'boolean', description: 'Skip the drain: close every connection now.', default: false },
    timeout: { kind: 'string', helpValue: 'duration', description: 'Give up waiting for the supervisor to exit after this long (exit 75).', default: '5m' },
  },
  status: {
    clusters: { kind: 'boolean', description: "Also show the serving epoch's clusters: each host's weight, health, flags, active requests, outlier ejection and locality.", default: false },
  },
  stats: {
    filter: { kind: 'string', helpValue: 'regex', description: 'Only stats whose name matches this regular expression.' },
    histograms: {
      kind: 'boolean',
      description: 'Only the histograms, as a table of count and p50/p90/p99/p99.9 in ms. They live in the stats region, so they span reloads: every epoch records into the same buckets.',
      default: false,
    },
    watch: { kind: 'boolean', description: 'Every --interval, print per-second counter rates (a redrawn table with gauges on a terminal, `<time> name rate/s` lines otherwise) until Ctrl-C.', default: false },
    interval: { kind: 'string', helpValue: 'duration', description: 'With --watch: time between samples.', default: '1s' },
    count: { kind: 'integer', description: 'With --watch: stop after this many intervals.', min: 1, max: 1_000_000 },
  },
  validate: {},
  'systemd-unit': {
    user: { kind: 'boolean', description: 'A user unit (systemctl --user): no User=, no capabilities or mount sandboxing, WantedBy=default.target.', default: false },
    config: { kind: 'string', description: 'The config file the unit runs; its drain settings set TimeoutStopSec. Default: /etc/proxyctl/proxyctl.yaml (--user: $XDG_CONFIG_HOME/proxyctl/proxyctl.yaml).' },
  },
} as const satisfies Record<string, FlagSpecs>;

export type CommandId = keyof typeof COMMAND_FLAGS;

/** What a command's `run` gets: its own flags and the base flags, parsed. */
export type CommandFlags<C extends CommandId> = FlagValues<(typeof COMMAND_FLAGS)[C]> & FlagValues<typeof BASE_FLAGS>;
