/** `discovery: static`: the config's endpoints, reported once; a reload brings new ones. */
import type { DiscoveredEndpoint, Discovery, DiscoveryEvents } from '../types.js';
import { UpdateReporter, type DiscoveryDeps } from './reporter.js';

export class StaticDiscovery implements Discovery {
  readonly #endpoints: readonly DiscoveredEndpoint[];
  readonly #reporter: UpdateReporter;

  constructor(cluster: string, endpoints: readonly DiscoveredEndpoint[], deps: DiscoveryDeps) {
    this.#endpoints = endpoints;
    this.#reporter = new UpdateReporter(cluster, deps);
  }

  start(events: DiscoveryEvents): void {
    this.#reporter.bind(events);
    this.#reporter.attempt();
    this.#reporter.success(this.#endpoints);
  }

  initialized(timeoutMs: number): Promise<void> {
    return this.#reporter.initialized(timeoutMs);
  }

  stop(): void {
    this.#reporter.close();
  }
}
