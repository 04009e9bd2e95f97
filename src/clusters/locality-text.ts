import type { Locality } from '../config/types.js';

/** An endpoint's locality as operators read it (admin /clusters, `status --clusters`): `region=eu,zone=z1`, or `-` when it has none. */
export function localityText(l: Locality | null): string {
  if (l === null) return '-';
  const parts = (['region', 'zone', 'subZone'] as const).filter((k) => l[k] !== undefined).map((k) => `${k}=${l[k]}`);
  return parts.length === 0 ? '-' : parts.join(',');
}
