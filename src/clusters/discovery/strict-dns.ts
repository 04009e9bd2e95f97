/**
 * `discovery: strictDns`: every A and/or AAAA record of one name is an endpoint. The name is
 * resolved at start, then again `refreshRateMs` after each lookup ends (so lookups never
 * overlap). A lookup that fails (timeout, refused, SERVFAIL, ...) keeps the last good hosts;
 * an answer that says there are no records (NODATA, NXDOMAIN) empties the cluster, because
 * that is what the name's owner said.
 */
import { Resolver } from 'node:dns/promises';
import { formatAddress } from '../../config/address.js';
import { errnoCode } from '../../errors.js';
import type { DnsDiscoveryConfig } from '../../config/types.js';
import type { DiscoveredEndpoint, Discovery, DiscoveryEvents } from '../types.js';
import { UpdateReporter, type DiscoveryDeps } from './reporter.js';

/** c-ares codes of an answer that exists and holds no records of the type asked. */
const NO_RECORDS = new Set(['ENODATA', 'ENOTFOUND']);

/**
 * Two tries per lookup (UDP loses a packet now and then). c-ares backs off on the second try
 * and adapts to the server's latency: two tries of timeout T took up to about 4T (c-ares
 * 1.34), hence T = refresh / 6, so a lookup ends before the next is due.
 */
const TRIES = 2;
const REFRESHES_PER_TRY = 6;
const MAX_TRY_TIMEOUT_MS = 5_000;

type Lookup = { readonly ok: true; readonly hosts: readonly string[] } | { readonly ok: false; readonly reason: string };

export class StrictDnsDiscovery implements Discovery {
  readonly #dns: DnsDiscoveryConfig;
  readonly #reporter: UpdateReporter;
  readonly #resolver: Resolver;
  #timer: NodeJS.Timeout | null = null;
  #running = false;

  constructor(cluster: string, dns: DnsDiscoveryConfig, deps: DiscoveryDeps) {
    this.#dns = dns;
    this.#reporter = new UpdateReporter(cluster, deps);
    const timeout = Math.max(1, Math.min(MAX_TRY_TIMEOUT_MS, Math.floor(dns.refreshRateMs / REFRESHES_PER_TRY)));
    this.#resolver = new Resolver({ timeout, tries: TRIES });
    if (dns.resolvers.length > 0) this.#resolver.setServers(dns.resolvers.map(formatAddress));
  }

  start(events: DiscoveryEvents): void {
    this.#reporter.bind(events);
    this.#running = true;
    void this.#refresh();
  }

  initialized(timeoutMs: number): Promise<void> {
    return this.#reporter.initialized(timeoutMs);
  }

  stop(): void {
    this.#running = false;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    // Pending queries end with ECANCELLED, which #refresh ignores once stopped.
    this.#resolver.cancel();
    this.#reporter.close();
  }

  readonly #refresh = async (): Promise<void> => {
    this.#timer = null;
    this.#reporter.attempt();
    const r = await this.#lookup();
    if (!this.#running) return;
    if (r.ok) this.#reporter.success(r.hosts.map(this.#endpoint));
    else this.#reporter.failure('PROXYCTL_ERR_DISCOVERY_DNS', `lookup of ${this.#dns.name} failed: ${r.reason}`);
    if (this.#running) this.#timer = setTimeout(this.#refresh, this.#dns.refreshRateMs);
  };

  readonly #endpoint = (host: string): DiscoveredEndpoint => ({ host, port: this.#dns.port, weight: 1, locality: null, metadata: null });

  /** Both families (with `all`) are asked at once; either failing fails the lookup, either having no records is an answer. */
  async #lookup(): Promise<Lookup> {
    const { name, family } = this.#dns;
    const asked: Promise<string[]>[] = [];
    if (family !== 'v6') asked.push(this.#resolver.resolve4(name));
    if (family !== 'v4') asked.push(this.#resolver.resolve6(name));
    const answers = await Promise.allSettled(asked);
    const hosts = new Set<string>();
    const failures: string[] = [];
    for (const a of answers) {
      if (a.status === 'fulfilled') for (const h of a.value) hosts.add(h);
      else {
        const code = errnoCode(a.reason) ?? String(a.reason);
        if (!NO_RECORDS.has(code)) failures.push(code);
      }
    }
    return failures.length > 0 ? { ok: false, reason: failures.join(', ') } : { ok: true, hosts: [...hosts] };
  }
}
