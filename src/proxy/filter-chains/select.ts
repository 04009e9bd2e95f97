/**
 * Which filter chain a connection gets, the way Envoy chooses: the criteria are taken in a
 * fixed order — destination port, server name (SNI), transport, ALPN, source address — and
 * at each one only the chains that match most specifically go on to the next:
 *
 * - A chain that names a value for the criterion and matches beats one that names none; one
 *   that names a value and does not match is out.
 * - Server names: an exact name beats any wildcard; among wildcards (`*.example.com`, any name
 *   that ends in `.example.com`) the longest suffix wins. A connection without SNI matches
 *   only chains that name no server names; the same goes for ALPN.
 * - Source: among the ranges that contain the client, the longest prefix wins.
 *
 * There is no going back: a connection that narrows to chains which then fail a later
 * criterion matches no chain, even if a chain it left behind would have matched (Envoy does
 * the same). The config's cross-checks make sure no two chains tie all the way down; if they
 * did, the first listed would win.
 */
import { cidrContains, parseCidr, type Cidr } from '../../config/cidr.js';
import type { FilterChainMatchConfig } from '../../config/types.js';
import type { ChainSelector, ConnectionFacts } from './types.js';

interface Compiled<T> {
  readonly value: T;
  readonly port: number | null;
  readonly exact: ReadonlySet<string>;
  /** From `*.example.com`: `.example.com`. */
  readonly suffixes: readonly string[];
  readonly anyName: boolean;
  readonly transport: 'tls' | 'raw' | null;
  readonly alpn: ReadonlySet<string>;
  readonly cidrs: readonly Cidr[];
}

type Score<T> = (c: Compiled<T>, f: ConnectionFacts) => number;

/** Scores above any suffix length (a name is at most 253 bytes). */
const EXACT = 1_000;

export class FilterChainSelector<T> implements ChainSelector<T> {
  private readonly chains: readonly Compiled<T>[];

  constructor(entries: readonly { readonly match: FilterChainMatchConfig; readonly value: T }[]) {
    this.chains = entries.map(({ match: m, value }) => ({
      value,
      port: m.destinationPort,
      exact: new Set(m.serverNames.filter((n) => !n.startsWith('*.'))),
      suffixes: m.serverNames.filter((n) => n.startsWith('*.')).map((n) => n.slice(1)),
      anyName: m.serverNames.length === 0,
      transport: m.transport,
      alpn: new Set(m.alpn),
      cidrs: m.sourceCidrs.map(mustCidr),
    }));
  }

  select(facts: ConnectionFacts): T | null {
    let c = this.chains;
    c = narrow(c, facts, portScore);
    c = narrow(c, facts, nameScore);
    c = narrow(c, facts, transportScore);
    c = narrow(c, facts, alpnScore);
    c = narrow(c, facts, sourceScore);
    return c.length === 0 ? null : (c[0] as Compiled<T>).value;
  }
}

/** The chains of `list` with the best score for `facts`; none if every one scores below 0. */
function narrow<T>(list: readonly Compiled<T>[], facts: ConnectionFacts, score: Score<T>): readonly Compiled<T>[] {
  if (list.length === 0) return list;
  let best = -1;
  for (const c of list) best = Math.max(best, score(c, facts));
  if (best < 0) return [];
  return list.filter((c) => score(c, facts) === best);
}

function portScore<T>(c: Compiled<T>, f: ConnectionFacts): number {
  if (c.port === null) return 0;
  return c.port === f.destinationPort ? 1 : -1;
}

function nameScore<T>(c: Compiled<T>, f: ConnectionFacts): number {
  if (c.anyName) return 0;
  const name = f.serverName;
  if (name === null) return -1;
  if (c.exact.has(name)) return EXACT;
  let best = -1;
  for (const s of c.suffixes) if (s.length < name.length && s.length > best && name.endsWith(s)) best = s.length;
  return best;
}

function transportScore<T>(c: Compiled<T>, f: ConnectionFacts): number {
  if (c.transport === null) return 0;
  return c.transport === f.transport ? 1 : -1;
}

function alpnScore<T>(c: Compiled<T>, f: ConnectionFacts): number {
  if (c.alpn.size === 0) return 0;
  for (const p of f.alpn) if (c.alpn.has(p)) return 1;
  return -1;
}

function sourceScore<T>(c: Compiled<T>, f: ConnectionFacts): number {
  if (c.cidrs.length === 0) return 0;
  if (f.source === null) return -1;
  let best = -1;
  for (const r of c.cidrs) if (r.prefix + 1 > best && cidrContains(r, f.source)) best = r.prefix + 1;
  return best;
}

function mustCidr(text: string): Cidr {
  const r = parseCidr(text);
  // The config was checked: a range that does not parse here is a bug.
  if (!r.ok) throw new Error(`filter chain source range ${text}: ${r.message}`);
  return r.cidr;
}
