import { parseCidr } from './cidr.js';
import type { IssuePath, PathIssue } from './issue.js';

/**
 * Checks of listener filters and filter chains that span fields: one kind per listener
 * filter entry; unique chain names; a match on what only the TLS inspector knows (SNI, ALPN,
 * `transport: tls`) on a listener that has one; and no two chains that would tie for some
 * connection. Like cross-checks.ts they read the raw document and skip what they cannot read
 * (the schema reports that), so all errors come out in one pass.
 */
export function crossCheckFilterChains(listeners: unknown[], issues: PathIssue[]): void {
  listeners.forEach((l, i) => {
    if (!isRecord(l)) return;
    const at: IssuePath = ['listeners', i];
    const filters = Array.isArray(l.listenerFilters) ? l.listenerFilters : [];
    filters.forEach((f, j) => {
      if (isRecord(f) && (f.proxyProtocol === undefined) === (f.tlsInspector === undefined)) {
        issues.push({ path: [...at, 'listenerFilters', j], message: 'a listener filter entry needs exactly one of "proxyProtocol" or "tlsInspector"', at: 'value' });
      }
    });
    if (!Array.isArray(l.filterChains)) return;
    const inspector = filters.some((f) => isRecord(f) && f.tlsInspector !== undefined);
    chains(l.filterChains, [...at, 'filterChains'], inspector, issues);
  });
}

/** What a chain's match keys mean for ties: each criterion as a comparable key, sets as sets. */
interface MatchKeys {
  readonly port: unknown;
  readonly transport: unknown;
  readonly serverNames: ReadonlySet<string>;
  readonly alpn: ReadonlySet<string>;
  readonly sourceCidrs: ReadonlySet<string>;
}

const NEEDS_INSPECTOR = ['serverNames', 'alpn'] as const;

function chains(list: unknown[], at: IssuePath, inspector: boolean, issues: PathIssue[]): void {
  const names = new Map<string, number>();
  const seen: { index: number; keys: MatchKeys }[] = [];
  list.forEach((c, j) => {
    if (!isRecord(c)) return;
    const cat = [...at, j];
    if (typeof c.name === 'string') {
      const first = names.get(c.name);
      if (first !== undefined) issues.push({ path: [...cat, 'name'], message: `duplicate filter chain name "${c.name}" (first used by filterChains[${first}])`, at: 'value' });
      else names.set(c.name, j);
    }
    const m = c.match === undefined ? {} : c.match;
    if (!isRecord(m)) return;
    if (!inspector) {
      for (const key of NEEDS_INSPECTOR) {
        if (m[key] !== undefined) issues.push({ path: [...cat, 'match', key], message: `matching on ${key} needs { tlsInspector: {} } in this listener's listenerFilters (only it reads the ClientHello)`, at: 'key' });
      }
      if (m.transport === 'tls') issues.push({ path: [...cat, 'match', 'transport'], message: "transport: tls needs { tlsInspector: {} } in this listener's listenerFilters (without it every connection is raw)", at: 'value' });
    }
    const keys = matchKeys(m);
    const tie = seen.find((s) => overlap(s.keys, keys));
    if (tie !== undefined) {
      issues.push({
        path: c.match === undefined ? cat : [...cat, 'match'],
        message: `matches some connections exactly as filterChains[${tie.index}] does (${describe(tie.keys, keys)}): either chain could take them; make the matches differ`,
        at: 'value',
      });
    }
    seen.push({ index: j, keys });
  });
}

function matchKeys(m: Record<string, unknown>): MatchKeys {
  const strings = (v: unknown, norm: (s: string) => string): Set<string> => new Set(Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string').map(norm) : []);
  return {
    port: m.destinationPort,
    transport: m.transport,
    serverNames: strings(m.serverNames, (s) => s.toLowerCase()),
    alpn: strings(m.alpn, (s) => s),
    sourceCidrs: strings(m.sourceCidrs, (s) => {
      const r = parseCidr(s);
      return r.ok ? r.cidr.text : s;
    }),
  };
}

/** Both chains are equally specific for some connection: at every level they name the same value, or both name none. */
function overlap(a: MatchKeys, b: MatchKeys): boolean {
  return a.port === b.port && a.transport === b.transport && setsTie(a.serverNames, b.serverNames) && setsTie(a.alpn, b.alpn) && setsTie(a.sourceCidrs, b.sourceCidrs);
}

function setsTie(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size === 0 || b.size === 0) return a.size === b.size;
  for (const x of a) if (b.has(x)) return true;
  return false;
}

function describe(a: MatchKeys, b: MatchKeys): string {
  const parts: string[] = [];
  if (a.port !== undefined) parts.push(`destinationPort ${String(a.port)}`);
  const shared = (key: string, x: ReadonlySet<string>, y: ReadonlySet<string>): void => {
    const common = [...x].find((v) => y.has(v));
    if (common !== undefined) parts.push(`${key} "${common}"`);
  };
  shared('serverNames', a.serverNames, b.serverNames);
  if (a.transport !== undefined) parts.push(`transport ${String(a.transport)}`);
  shared('alpn', a.alpn, b.alpn);
  shared('sourceCidrs', a.sourceCidrs, b.sourceCidrs);
  return parts.length === 0 ? 'both match everything' : parts.join(', ');
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
