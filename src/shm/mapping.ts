import { closeSync, fstatSync, openSync, constants as fsc } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ProxyctlError, errnoCode } from '../errors.js';

interface MmapIo {
  map(size: number, protection: number, flags: number, fd: number, offset?: number): Buffer;
  readonly PROT_READ: number;
  readonly PROT_WRITE: number;
  readonly MAP_SHARED: number;
}
const require = createRequire(import.meta.url);

/**
 * The package's entry finds its binary through @mapbox/node-pre-gyp, which loads npmlog,
 * semver and more first: 63 ms wall and 78 ms of CPU in every process and every worker thread
 * that maps the region, on the 2-core dev VM. The binary node-gyp built exports map, PROT_*
 * and MAP_* itself, so it is loaded directly (2.5 ms); the entry stays the fallback should
 * the binary live elsewhere.
 */
function loadMmap(): MmapIo {
  try {
    return require(join(dirname(require.resolve('@riaskov/mmap-io/package.json')), 'build/Release/mmap_io.node')) as MmapIo;
  } catch {
    return require('@riaskov/mmap-io') as MmapIo;
  }
}
const mmap = loadMmap();

/**
 * A MAP_SHARED mapping of a whole file. The mapping lives as long as `bytes` is reachable:
 * mmap-io unmaps in the Buffer's finalizer, so holders keep the Buffer, never just a view's
 * offset. The file descriptor is closed right after mapping; the mapping keeps the file alive.
 */
export interface Mapping {
  bytes: Buffer;
  size: number;
  readOnly: boolean;
}

/** Maps `path` as it is now. Throws PROXYCTL_ERR_SHM_IO for an unreadable or empty file. */
export function mapFile(path: string, readOnly: boolean, minSize: number): Mapping {
  let fd: number;
  try {
    fd = openSync(path, readOnly ? fsc.O_RDONLY : fsc.O_RDWR);
  } catch (err: unknown) {
    throw new ProxyctlError('PROXYCTL_ERR_SHM_IO', `cannot open stats region ${path}: ${errnoCode(err) ?? String(err)}`, { path, errno: errnoCode(err) }, { cause: err });
  }
  try {
    const size = fstatSync(fd).size;
    if (size < minSize) {
      throw new ProxyctlError('PROXYCTL_ERR_SHM_INCOMPATIBLE', `stats region ${path} is ${size} bytes, smaller than its ${minSize}-byte header (truncated?)`, { path, field: 'size', expected: `>= ${minSize}`, actual: size });
    }
    const prot = readOnly ? mmap.PROT_READ : mmap.PROT_READ | mmap.PROT_WRITE;
    let bytes: Buffer;
    try {
      bytes = mmap.map(size, prot, mmap.MAP_SHARED, fd, 0);
    } catch (err: unknown) {
      throw new ProxyctlError('PROXYCTL_ERR_SHM_IO', `cannot map stats region ${path}: ${String(err)}`, { path }, { cause: err });
    }
    return { bytes, size, readOnly };
  } finally {
    closeSync(fd);
  }
}
