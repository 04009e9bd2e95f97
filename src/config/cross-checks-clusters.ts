/**
 * Checks of a cluster that span its fields: which keys each discovery type needs and refuses,
 * which keys belong to which load-balancing policy, one health-check protocol, no limit spelled
 * twice, and no endpoint listed twice. They read the raw document, like cross-checks.ts.
 * `hashOn` is accepted with any policy (only the hash policies use it): the issue's own example
 * pairs it with roundRobin, and a policy switch should not need two edits.
 */
import { parseAddress, formatAddress } from './address.js';
import type { IssuePath, PathIssue } from './issue.js';

/** Policy-specific blocks and the policy each belongs to. */
const POLICY_KEYS: Readonly<Record<string, string>> = { leastRequest: 'leastRequest', ringHash: 'ringHash', maglev: 'maglev' };
/** Envoy applies slow start to these two only: the hash policies would move keys as weights ramp. */
const SLOW_START_POLICIES = new Set(['roundRobin', 'leastRequest']);
const LIMIT_ALIASES = ['maxConnections', 'maxPendingRequests'] as const;

export function crossCheckClusters(clusters: unknown[], issues: PathIssue[]): void {
  clusters.forEach((c, i) => {
    if (isRecord(c)) checkCluster(c, ['clusters', i], issues);
  });
}

function checkCluster(c: Record<string, unknown>, base: IssuePath, issues: PathIssue[]): void {
  const at = (...keys: (string | number)[]): IssuePath => [...base, ...keys];
  const discovery = c.discovery ?? 'static';
  const needs: Readonly<Record<string, string>> = { static: 'endpoints', strictDns: 'dns', file: 'file' };
  const wanted = needs[typeof discovery === 'string' ? discovery : ''];
  if (wanted !== undefined) {
    if (c[wanted] === undefined) issues.push({ path: at(wanted), message: `missing required key "${wanted}": discovery ${String(discovery)} takes its endpoints from it`, at: 'value' });
    else if (wanted === 'endpoints' && Array.isArray(c.endpoints) && c.endpoints.length === 0) issues.push({ path: at('endpoints'), message: 'a static cluster needs at least one endpoint', at: 'value' });
    for (const other of Object.values(needs)) {
      if (other !== wanted && c[other] !== undefined) issues.push({ path: at(other), message: `${other} is for discovery ${keyOf(needs, other)}, not ${String(discovery)}`, at: 'key' });
    }
  }
  const lb = typeof c.lb === 'string' ? c.lb : 'roundRobin';
  for (const [key, policy] of Object.entries(POLICY_KEYS)) {
    if (c[key] !== undefined && lb !== policy) issues.push({ path: at(key), message: `${key} settings are for lb ${policy}`, at: 'key' });
  }
  if (c.slowStart !== undefined && !SLOW_START_POLICIES.has(lb)) issues.push({ path: at('slowStart'), message: 'slowStart is for lb roundRobin or leastRequest', at: 'key' });
  const hc = c.healthCheck;
  if (isRecord(hc) && (hc.http === undefined) === (hc.tcp === undefined)) issues.push({ path: at('healthCheck'), message: 'a health check is exactly one of http or tcp', at: 'value' });
  const cb = c.circuitBreakers;
  for (const k of LIMIT_ALIASES) {
    if (c[k] !== undefined && isRecord(cb) && cb[k] !== undefined) issues.push({ path: at(k), message: `${k} is also set in circuitBreakers: keep one`, at: 'key' });
  }
  if (Array.isArray(c.endpoints)) duplicateEndpoints(c.endpoints, at('endpoints'), issues);
}

/** An endpoint listed twice would get twice the traffic by accident: say so, and point at the second. */
export function duplicateEndpoints(endpoints: unknown[], base: IssuePath, issues: PathIssue[]): void {
  const first = new Map<string, number>();
  endpoints.forEach((e, j) => {
    const text = typeof e === 'string' ? e : isRecord(e) && typeof e.address === 'string' ? e.address : null;
    if (text === null) return;
    const parsed = parseAddress(text);
    if (!parsed.ok) return;
    const key = formatAddress(parsed.address);
    const seen = first.get(key);
    if (seen === undefined) first.set(key, j);
    else issues.push({ path: [...base, j], message: `${key} is listed twice (first at index ${seen}): give it a weight instead`, at: 'value' });
  });
}

function keyOf(map: Readonly<Record<string, string>>, value: string): string {
  return Object.keys(map).find((k) => map[k] === value) ?? value;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
