/**
 * The statsd sink: a flush's batch as statsd lines over UDP, through hot-shots (one client and
 * one socket per epoch, datagrams packed up to an Ethernet MTU). Counters go out as deltas
 * (`|c`), gauges as values (`|g`), histograms as their interval summary: `<name>.count` (`|c`)
 * and `<name>.p50/.p90/.p99/.p999` in milliseconds (`|g`). With `tags: dogstatsd` the object a
 * stat belongs to becomes a tag, as Envoy's tag extraction does: `cluster.app.upstream_rq_total`
 * goes out as `cluster.upstream_rq_total` with `#cluster_name:app`.
 *
 * A socket error never reaches serving: it is counted (`stats.statsd.send_fail`) and logged at
 * most once a minute.
 */
import StatsD, { type StatsD as StatsdClient, type Tags } from 'hot-shots';
import type { StatsdSinkConfig } from '../config/types-stats.js';
import type { Logger } from '../log.js';
import type { Counter } from '../shm/handles.js';
import { SCOPE_TAGS, splitScope } from './scope-names.js';
import type { FlushBatch, StatsSink } from './types.js';

/** Lines are packed into datagrams of at most this many bytes: a 1500-byte MTU less IP and UDP headers, with room for IPv6. */
const MAX_DATAGRAM_BYTES = 1432;
const WARN_EVERY_MS = 60_000;
const QUANTILES = ['p50', 'p90', 'p99', 'p999'] as const;

/** Envoy's tag names for the same objects (without its `envoy.` prefix). */
/** Characters that would end a statsd name early. */
const UNSAFE = /[:|@\s]/g;

interface Wire {
  name: string;
  tags: Tags | undefined;
}

export class StatsdSink implements StatsSink {
  readonly #client: StatsdClient;
  readonly #dogstatsd: boolean;
  readonly #wire = new Map<string, Wire>();
  readonly #sendFail: Counter;
  readonly #log: Logger;
  #lastWarnAt = -Infinity;
  #failedSinceWarn = 0;

  constructor(config: StatsdSinkConfig, sendFail: Counter, log: Logger) {
    this.#dogstatsd = config.tags === 'dogstatsd';
    this.#sendFail = sendFail;
    this.#log = log;
    this.#client = new StatsD({
      host: config.address.host,
      port: config.address.port,
      protocol: 'udp',
      prefix: config.prefix === '' ? '' : `${config.prefix}.`,
      maxBufferSize: MAX_DATAGRAM_BYTES,
      cacheDns: true,
      // Only what the config says: no DD_* environment tags, no client telemetry, no aggregation.
      datadog: false,
      includeDataDogTags: false,
      includeDatadogTelemetry: false,
      aggregation: false,
      errorHandler: this.#onError,
    });
  }

  send(batch: FlushBatch): void {
    const c = this.#client;
    for (const [name, delta] of batch.counters) this.#count(name, '', Number(delta));
    for (const [name, value] of batch.gauges) {
      const w = this.#wireOf(name);
      c.gauge(w.name, Number(value), 1, w.tags);
    }
    for (const [name, s] of batch.histograms) {
      this.#count(name, '.count', Number(s.count));
      const w = this.#wireOf(name);
      for (const q of QUANTILES) c.gauge(`${w.name}.${q}`, s[q] / 1000, 1, w.tags);
    }
    c.flush();
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#client.close(() => resolve()));
  }

  #count(name: string, suffix: string, n: number): void {
    const w = this.#wireOf(name);
    this.#client.increment(w.name + suffix, n, 1, w.tags);
  }

  #wireOf(name: string): Wire {
    let w = this.#wire.get(name);
    if (w === undefined) {
      const scoped = this.#dogstatsd ? splitScope(name) : null;
      w = scoped === null ? { name: name.replace(UNSAFE, '_'), tags: undefined } : { name: `${scoped.kind}.${scoped.rest}`.replace(UNSAFE, '_'), tags: [`${SCOPE_TAGS[scoped.kind]}:${scoped.object}`] };
      this.#wire.set(name, w);
    }
    return w;
  }

  readonly #onError = (err: Error): void => {
    this.#sendFail.inc();
    this.#failedSinceWarn++;
    const now = Date.now();
    if (now - this.#lastWarnAt < WARN_EVERY_MS) return;
    this.#log.warn('statsd: sending failed (counted in stats.statsd.send_fail; next warning in a minute at most)', { error: err, failures: this.#failedSinceWarn });
    this.#lastWarnAt = now;
    this.#failedSinceWarn = 0;
  };
}
