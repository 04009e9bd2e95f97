/**
 * Filter `localRateLimit`: a token bucket (token-bucket.ts) for the whole process, shared by
 * its worker threads through the stats region. A request that finds the bucket empty is
 * answered 429 with `retry-after` (whole seconds until the next fill, at least 1) and the
 * response flag `RL`. With `responseHeaders: true`, every response (limited or not) also
 * carries `x-ratelimit-limit`, `x-ratelimit-remaining` and `x-ratelimit-reset` (seconds).
 *
 * Stats under `http.<listener>.local_rate_limit.`: counters `enabled` (requests checked), `ok`,
 * `rate_limited`; gauges `tokens` and `fill_period` (the bucket itself).
 */
import * as z from 'zod';
import { FilterStatus } from '../filter.js';
import type { DecoderCallbacks, HttpFilter, HttpFilterFactory, ResponseHeaders } from '../filter.js';
import type { Counter } from '../../../shm/handles.js';
import { durationMs } from './schema-parts.js';
import { SharedTokenBucket, processClock, type Clock } from './token-bucket.js';

const count = (what: string) =>
  z.int({ error: `${what} must be a whole number` }).min(1, { error: `${what} must be at least 1` }).max(Number.MAX_SAFE_INTEGER, { error: `${what} is too large` });

const configSchema = z.strictObject({
  maxTokens: count('maxTokens'),
  tokensPerFill: count('tokensPerFill').default(1),
  fillInterval: durationMs.refine((ms) => ms >= 1, { error: 'must be at least 1ms' }),
  responseHeaders: z.boolean({ error: 'must be true or false' }).default(false),
});
export type LocalRateLimitConfig = z.output<typeof configSchema>;

export interface PreparedRateLimit {
  readonly bucket: SharedTokenBucket;
  readonly maxTokens: string;
  readonly responseHeaders: boolean;
  readonly enabled: Counter;
  readonly ok: Counter;
  readonly rateLimited: Counter;
}

class LocalRateLimitFilter implements HttpFilter {
  #remaining = -1;

  constructor(private readonly p: PreparedRateLimit) {}

  decodeHeaders(_h: unknown, _end: boolean, cb: DecoderCallbacks): FilterStatus {
    const p = this.p;
    p.enabled.inc();
    const left = p.bucket.tryTake();
    if (left >= 0) {
      p.ok.inc();
      this.#remaining = left;
      return FilterStatus.Continue;
    }
    p.rateLimited.inc();
    const seconds = String(Math.ceil(p.bucket.msUntilNextFill() / 1000));
    const headers: Record<string, string> = { 'retry-after': seconds };
    if (p.responseHeaders) Object.assign(headers, { 'x-ratelimit-limit': p.maxTokens, 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': seconds });
    cb.sendLocalReply(429, 'local rate limit exceeded\n', headers, 'RL');
    return FilterStatus.Stop;
  }

  encodeHeaders(headers: ResponseHeaders): FilterStatus {
    // The 429 above already carries them; #remaining < 0 means this request was limited.
    if (this.p.responseHeaders && this.#remaining >= 0) {
      headers.set('x-ratelimit-limit', this.p.maxTokens);
      headers.set('x-ratelimit-remaining', String(this.#remaining));
      headers.set('x-ratelimit-reset', String(Math.ceil(this.p.bucket.msUntilNextFill() / 1000)));
    }
    return FilterStatus.Continue;
  }
}

/** The factory, with the clock tests replace (`processClock` otherwise). */
export function createLocalRateLimitFilter(clock: Clock = processClock): HttpFilterFactory<LocalRateLimitConfig, PreparedRateLimit> {
  return {
    name: 'localRateLimit',
    configSchema,
    prepare: (config, ctx) => ({
      bucket: new SharedTokenBucket(ctx.stats, ctx.statPrefix, { maxTokens: config.maxTokens, tokensPerFill: config.tokensPerFill, fillIntervalMs: config.fillInterval }, clock),
      maxTokens: String(config.maxTokens),
      responseHeaders: config.responseHeaders,
      enabled: ctx.stats.counter(`${ctx.statPrefix}enabled`),
      ok: ctx.stats.counter(`${ctx.statPrefix}ok`),
      rateLimited: ctx.stats.counter(`${ctx.statPrefix}rate_limited`),
    }),
    create: (prepared) => new LocalRateLimitFilter(prepared),
  };
}

export const localRateLimitFilter = createLocalRateLimitFilter();
