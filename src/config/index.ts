/** The config area: types, loading with file:line:col errors, and the small parsers it uses. */
export type * from './types.js';
export type * from './types-router.js';
export { loadConfigFile, readConfigText, parseConfig, configHash, formatIssue } from './load.js';
export { parseDuration, formatDuration, MAX_DURATION_MS } from './duration.js';
export { parseAddress, formatAddress } from './address.js';
