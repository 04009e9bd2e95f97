import { ProxyctlError } from '../errors.js';
import {
  CAPACITY_LIMITS,
  GAUGE_LANES,
  HEADER,
  HEADER_BYTES,
  HISTOGRAM_BUCKETS,
  MAGIC,
  STATS_LAYOUT_VERSION,
  sectionOffsets,
  type RegionCapacity,
  type SectionOffsets,
} from './layout.js';

/** What the header says about a region, as read and checked by `readHeader`. */
export interface RegionHeader {
  layoutVersion: number;
  totalBytes: number;
  capacity: RegionCapacity;
  gaugeLanes: number;
  histogramBuckets: number;
  flags: number;
  creatorPid: number;
  createdAtMs: number;
  sections: SectionOffsets;
}

/** Writes a fresh header (and nothing else) for `capacity` into `bytes`, which must be zeroed. */
export function writeHeader(bytes: Buffer, capacity: RegionCapacity): void {
  const s = sectionOffsets(capacity);
  bytes.writeBigUInt64LE(MAGIC, HEADER.magic);
  bytes.writeUInt32LE(STATS_LAYOUT_VERSION, HEADER.layoutVersion);
  bytes.writeUInt32LE(HEADER_BYTES, HEADER.headerBytes);
  bytes.writeBigUInt64LE(BigInt(s.total), HEADER.totalBytes);
  bytes.writeUInt32LE(capacity.maxStats, HEADER.maxStats);
  bytes.writeUInt32LE(capacity.nameCapacity, HEADER.nameCapacity);
  bytes.writeUInt32LE(capacity.dataCapacity, HEADER.dataCapacity);
  bytes.writeUInt32LE(capacity.lockCount, HEADER.lockCount);
  bytes.writeUInt32LE(GAUGE_LANES, HEADER.gaugeLanes);
  bytes.writeUInt32LE(HISTOGRAM_BUCKETS, HEADER.histogramBuckets);
  bytes.writeUInt32LE(0, HEADER.flags);
  bytes.writeUInt32LE(process.pid, HEADER.creatorPid);
  bytes.writeBigUInt64LE(BigInt(Date.now()), HEADER.createdAtMs);
  bytes.writeUInt32LE(s.indexSlots, HEADER.indexSlots);
}

function incompatible(path: string, field: string, expected: unknown, actual: unknown, why: string): ProxyctlError {
  return new ProxyctlError(
    'PROXYCTL_ERR_SHM_INCOMPATIBLE',
    `stats region ${path}: ${why} (expected ${String(expected)}, found ${String(actual)})`,
    { path, field, expected, actual },
  );
}

/**
 * Reads and checks the header of a mapped region of `fileSize` bytes. Every field that
 * decides where memory is touched is checked against the file before it is trusted, so a
 * file of random bytes, a truncated file or another program's file is refused with
 * PROXYCTL_ERR_SHM_INCOMPATIBLE naming the field that differs.
 */
export function readHeader(bytes: Buffer, fileSize: number, path: string): RegionHeader {
  if (fileSize < HEADER_BYTES) throw incompatible(path, 'size', `>= ${HEADER_BYTES}`, fileSize, 'file too small to hold a header');
  const magic = bytes.readBigUInt64LE(HEADER.magic);
  if (magic !== MAGIC) throw incompatible(path, 'magic', `0x${MAGIC.toString(16)}`, `0x${magic.toString(16)}`, 'not a proxyctl stats region');
  const layoutVersion = bytes.readUInt32LE(HEADER.layoutVersion);
  if (layoutVersion !== STATS_LAYOUT_VERSION) {
    throw incompatible(path, 'layoutVersion', STATS_LAYOUT_VERSION, layoutVersion, 'stats layout version differs (was it made by another proxyctl version?)');
  }
  const headerBytes = bytes.readUInt32LE(HEADER.headerBytes);
  if (headerBytes !== HEADER_BYTES) throw incompatible(path, 'headerBytes', HEADER_BYTES, headerBytes, 'header size differs');
  const gaugeLanes = bytes.readUInt32LE(HEADER.gaugeLanes);
  if (gaugeLanes !== GAUGE_LANES) throw incompatible(path, 'gaugeLanes', GAUGE_LANES, gaugeLanes, 'gauge lane count differs');
  const histogramBuckets = bytes.readUInt32LE(HEADER.histogramBuckets);
  if (histogramBuckets !== HISTOGRAM_BUCKETS) throw incompatible(path, 'histogramBuckets', HISTOGRAM_BUCKETS, histogramBuckets, 'histogram bucket count differs');

  const capacity: RegionCapacity = {
    maxStats: bytes.readUInt32LE(HEADER.maxStats),
    nameCapacity: bytes.readUInt32LE(HEADER.nameCapacity),
    dataCapacity: bytes.readUInt32LE(HEADER.dataCapacity),
    lockCount: bytes.readUInt32LE(HEADER.lockCount),
  };
  for (const key of Object.keys(CAPACITY_LIMITS) as (keyof RegionCapacity)[]) {
    const v = capacity[key];
    if (v < 1 || v > CAPACITY_LIMITS[key]) throw incompatible(path, key, `1..${CAPACITY_LIMITS[key]}`, v, `capacity ${key} out of range`);
  }
  const sections = sectionOffsets(capacity);
  const totalBytes = Number(bytes.readBigUInt64LE(HEADER.totalBytes));
  if (totalBytes !== sections.total) throw incompatible(path, 'totalBytes', sections.total, totalBytes, 'header size field disagrees with its capacities');
  if (fileSize !== totalBytes) throw incompatible(path, 'size', totalBytes, fileSize, 'file size differs from the header (truncated or extended?)');
  const indexSlots = bytes.readUInt32LE(HEADER.indexSlots);
  if (indexSlots !== sections.indexSlots) throw incompatible(path, 'indexSlots', sections.indexSlots, indexSlots, 'index size differs');

  return {
    layoutVersion,
    totalBytes,
    capacity,
    gaugeLanes,
    histogramBuckets,
    flags: bytes.readUInt32LE(HEADER.flags),
    creatorPid: bytes.readUInt32LE(HEADER.creatorPid),
    createdAtMs: Number(bytes.readBigUInt64LE(HEADER.createdAtMs)),
    sections,
  };
}
