import type { SocketAddress } from './types.js';

/** `stats`: where stats go besides the region (`proxyctl stats`, admin `/stats`), and how often. */
export interface StatsConfig {
  /** How often the active epoch flushes to every sink. Default: 5 s (Envoy's stats_flush_interval). */
  readonly flushIntervalMs: number;
  /** Possibly empty (the default): then nothing is flushed. */
  readonly sinks: readonly StatsSinkConfig[];
}

/** A statsd (UDP) sink. */
export interface StatsdSinkConfig {
  readonly kind: 'statsd';
  readonly address: SocketAddress;
  /** Put before every name with a dot; "" for none. Default `proxyctl`. */
  readonly prefix: string;
  /** `dogstatsd`: listener and cluster names become tags; `none` (default): plain dotted names. */
  readonly tags: 'none' | 'dogstatsd';
}

export type StatsSinkConfig = StatsdSinkConfig;
