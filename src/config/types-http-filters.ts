/**
 * One entry of an http listener's `httpFilters:` list. The file writes `- <name>: <config>`;
 * the normalized form names the two parts, and `config` is the filter factory's own schema
 * output (durations in ms, defaults filled in): plain data, posted as is to worker threads.
 */
export interface HttpFilterConfig {
  /** A key of `HTTP_FILTERS` (src/proxy/http/filters/index.ts), such as `localRateLimit`. */
  readonly name: string;
  readonly config: unknown;
}
