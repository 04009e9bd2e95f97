/**
 * Filter `fault`: injects delays and aborts into a share of requests, to test how clients and
 * upstream timeouts cope. For each request the filter draws, independently, whether to delay
 * it (`delay.percentage`) and whether to abort it (`abort.percentage`); a delayed request is
 * held for `delay.fixedDelay` (response flag `DI`), then aborted or sent on; an aborted one is
 * answered `abort.httpStatus` here (response flag `FI`) and never reaches the upstream.
 *
 * `maxActiveFaults` caps the requests being faulted at once across the whole process (the
 * count is a gauge in the shared stats region, raised by compare-and-swap so worker threads
 * cannot overshoot it together); a request over the cap is left alone and counted.
 * A delayed request whose client goes away has its timer cleared in `onDestroy`.
 *
 * With `headerOverrides: true` a request may tune the faults that are configured (never add
 * one): `x-fault-delay-request` (ms), `x-fault-delay-request-percentage`,
 * `x-fault-abort-request` (status) and `x-fault-abort-request-percentage`. Only for test
 * set-ups: any client can then pick its own faults.
 *
 * Stats under `http.<listener>.fault.`: counters `delays_injected`, `aborts_injected`,
 * `faults_overflow`; gauge `active_faults`.
 */
import * as z from 'zod';
import { FilterStatus } from '../filter.js';
import type { DecoderCallbacks, HttpFilter, HttpFilterFactory, RequestHeaders, StreamInfo } from '../filter.js';
import { MAX_DURATION_MS } from '../../../config/duration.js';
import type { Counter, Gauge } from '../../../shm/handles.js';
import { roll, type RandomSource } from './random.js';
import { durationMs, percentage } from './schema-parts.js';

const configSchema = z
  .strictObject({
    delay: z.strictObject({ fixedDelay: durationMs, percentage: percentage.default(100) }).optional(),
    abort: z
      .strictObject({
        httpStatus: z.int({ error: 'must be a whole number' }).min(200, { error: 'must be 200..599' }).max(599, { error: 'must be 200..599' }),
        percentage: percentage.default(100),
      })
      .optional(),
    maxActiveFaults: z.int({ error: 'must be a whole number' }).min(0, { error: 'must be 0 or more' }).optional(),
    headerOverrides: z.boolean({ error: 'must be true or false' }).default(false),
  })
  .refine((c) => c.delay !== undefined || c.abort !== undefined, { error: 'a fault filter needs "delay", "abort" or both' });
export type FaultConfig = z.output<typeof configSchema>;

export interface PreparedFault {
  readonly config: FaultConfig;
  readonly random: RandomSource;
  readonly maxActive: number;
  readonly active: Gauge;
  readonly delaysInjected: Counter;
  readonly abortsInjected: Counter;
  readonly overflow: Counter;
}

function addFlag(info: StreamInfo, flag: string): void {
  info.responseFlags = info.responseFlags === '' ? flag : `${info.responseFlags},${flag}`;
}

/** Takes a slot under the process-wide cap; false when the cap is reached. */
function takeSlot(active: Gauge, max: number): boolean {
  const cap = BigInt(max);
  for (;;) {
    const n = active.laneValue();
    if (n >= cap) return false;
    if (active.compareExchange(n, n + 1n) === n) return true;
  }
}

/** What the request's headers ask for, with `headerOverrides: true`; malformed values are ignored. */
interface Overrides {
  readonly delayMs?: number;
  readonly delayPercentage?: number;
  readonly abortStatus?: number;
  readonly abortPercentage?: number;
}

const NO_OVERRIDES: Overrides = {};

function overridesOf(h: RequestHeaders): Overrides {
  const num = (name: string, min: number, max: number, whole: boolean): number | undefined => {
    const text = h.get(name);
    if (text === undefined || !/^\d+(\.\d+)?$/.test(text.trim())) return undefined;
    const n = Number(text);
    return n >= min && n <= max && (!whole || Number.isInteger(n)) ? n : undefined;
  };
  return {
    delayMs: num('x-fault-delay-request', 0, MAX_DURATION_MS, true),
    delayPercentage: num('x-fault-delay-request-percentage', 0, 100, false),
    abortStatus: num('x-fault-abort-request', 200, 599, true),
    abortPercentage: num('x-fault-abort-request-percentage', 0, 100, false),
  };
}

class FaultFilter implements HttpFilter {
  #timer: NodeJS.Timeout | null = null;
  #slot = false;
  #cb: DecoderCallbacks | null = null;
  #abortAfterDelay = false;
  #status = 503;

  constructor(private readonly p: PreparedFault) {}

  decodeHeaders(headers: RequestHeaders, _end: boolean, cb: DecoderCallbacks): FilterStatus {
    const { config, random } = this.p;
    const o = config.headerOverrides ? overridesOf(headers) : NO_OVERRIDES;
    const delay = config.delay !== undefined && roll(random, o.delayPercentage ?? config.delay.percentage);
    const abort = config.abort !== undefined && roll(random, o.abortPercentage ?? config.abort.percentage);
    this.#status = o.abortStatus ?? config.abort?.httpStatus ?? 503;
    if (!delay && !abort) return FilterStatus.Continue;
    if (!takeSlot(this.p.active, this.p.maxActive)) {
      this.p.overflow.inc();
      return FilterStatus.Continue;
    }
    this.#slot = true;
    if (!delay) {
      this.#abort(cb);
      return FilterStatus.Stop;
    }
    this.p.delaysInjected.inc();
    addFlag(cb.streamInfo, 'DI');
    this.#cb = cb;
    this.#abortAfterDelay = abort;
    this.#timer = setTimeout(onDelayElapsed, o.delayMs ?? config.delay?.fixedDelay ?? 0, this);
    return FilterStatus.Stop;
  }

  /** @internal The delay timer fired. */
  delayElapsed(): void {
    this.#timer = null;
    const cb = this.#cb as DecoderCallbacks;
    this.#cb = null;
    if (this.#abortAfterDelay) {
      this.#abort(cb);
      return;
    }
    this.#release();
    cb.continueDecoding();
  }

  #abort(cb: DecoderCallbacks): void {
    this.p.abortsInjected.inc();
    this.#release();
    cb.sendLocalReply(this.#status, 'fault filter abort\n', undefined, 'FI');
  }

  #release(): void {
    if (!this.#slot) return;
    this.#slot = false;
    this.p.active.dec();
  }

  onDestroy(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#cb = null;
    this.#release();
  }
}

// A named function rather than a closure per request (the filter is the timer's argument).
function onDelayElapsed(f: FaultFilter): void {
  f.delayElapsed();
}

/** The factory, with the random source tests seed (`Math.random` otherwise). */
export function createFaultFilter(random: RandomSource = Math.random): HttpFilterFactory<FaultConfig, PreparedFault> {
  return {
    name: 'fault',
    configSchema,
    prepare: (config, ctx) => ({
      config,
      random,
      maxActive: config.maxActiveFaults ?? Number.MAX_SAFE_INTEGER,
      active: ctx.stats.gauge(`${ctx.statPrefix}active_faults`),
      delaysInjected: ctx.stats.counter(`${ctx.statPrefix}delays_injected`),
      abortsInjected: ctx.stats.counter(`${ctx.statPrefix}aborts_injected`),
      overflow: ctx.stats.counter(`${ctx.statPrefix}faults_overflow`),
    }),
    create: (prepared) => new FaultFilter(prepared),
  };
}

export const faultFilter = createFaultFilter();
