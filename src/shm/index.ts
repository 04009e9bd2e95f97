export { StatsRegion, type OpenOptions, type RegionEntry } from './region.js';
export { Counter, Gauge, Histogram } from './handles.js';
export { readSnapshot, snapshotToJson, type StatsSnapshot, type HistogramSummary } from './reader.js';
export { STATS_LAYOUT_VERSION, LOCK_ALLOCATION, DEFAULT_CAPACITY, type RegionCapacity } from './layout.js';
export { processIsAlive, type LockGrant } from './locks.js';
export type { StatsStore } from './types.js';
