/** What one flush hands every sink: changes since the last flush, and values now. */
export interface FlushBatch {
  /** Counters that grew since the last flush, by how much. */
  counters: [name: string, delta: bigint][];
  /** Every gauge's value (lanes combined). */
  gauges: [name: string, value: bigint][];
  /** Histograms that recorded values since the last flush. */
  histograms: [name: string, summary: IntervalSummary][];
}

/** A histogram over one flush interval. Values in the unit recorded (µs for latencies). */
export interface IntervalSummary {
  /** Values recorded since the last flush (continuous across epochs, like counters). */
  count: bigint;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
}

/** Where flushed stats go. A sink never throws into the flusher and never blocks serving. */
export interface StatsSink {
  send(batch: FlushBatch): void;
  /** Sends what is buffered and releases the socket. */
  close(): Promise<void>;
}
