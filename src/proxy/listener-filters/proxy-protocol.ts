/**
 * Listener filter `proxy_protocol`: reads a PROXY protocol header (v1 or v2, as allowed) and
 * makes its source the connection's client address (client-address.ts). Without a header,
 * `required: true` closes the connection and `required: false` lets it through untouched.
 *
 * Stats, `listener.<name>.proxy_proto.`: `v1`, `v2` (headers accepted), `not_found` (optional
 * and absent), `error` (malformed, too long, disallowed version, or absent when required),
 * `timeout` (no verdict within `timeoutMs`).
 */
import type { Socket } from 'node:net';
import type { ProxyProtocolConfig } from '../../config/types.js';
import type { Counter } from '../../shm/handles.js';
import type { StatsStore } from '../../shm/types.js';
import { setProxiedAddresses } from '../client-address.js';
import { parseProxyHeader, type AllowedVersions } from './proxy-protocol-parser.js';
import { ListenerFilterStatus, type ListenerFilter, type ListenerFilterVerdict } from './types.js';

const NEED_MORE: ListenerFilterVerdict = { status: ListenerFilterStatus.NeedMoreData };
const CLOSE: ListenerFilterVerdict = { status: ListenerFilterStatus.Close };
const PASS: ListenerFilterVerdict = { status: ListenerFilterStatus.Continue, consumed: 0 };

export interface ProxyProtocolStats {
  readonly v1: Counter;
  readonly v2: Counter;
  readonly notFound: Counter;
  readonly error: Counter;
  readonly timeout: Counter;
}

export function proxyProtocolStats(listener: string, stats: StatsStore): ProxyProtocolStats {
  const p = `listener.${listener}.proxy_proto.`;
  return {
    v1: stats.counter(`${p}v1`),
    v2: stats.counter(`${p}v2`),
    notFound: stats.counter(`${p}not_found`),
    error: stats.counter(`${p}error`),
    timeout: stats.counter(`${p}timeout`),
  };
}

export class ProxyProtocolFilter implements ListenerFilter {
  readonly name = 'proxy_protocol';
  readonly timeoutMs: number;
  private readonly allow: AllowedVersions;
  private readonly required: boolean;

  constructor(
    config: ProxyProtocolConfig,
    private readonly stats: ProxyProtocolStats,
  ) {
    this.timeoutMs = config.timeoutMs;
    this.allow = { v1: config.allowV1, v2: config.allowV2 };
    this.required = config.required;
  }

  onData(buf: Buffer, socket: Socket): ListenerFilterVerdict {
    const r = parseProxyHeader(buf, this.allow);
    switch (r.kind) {
      case 'incomplete':
        return NEED_MORE;
      case 'absent':
        if (this.required) {
          this.stats.error.inc();
          return CLOSE;
        }
        this.stats.notFound.inc();
        return PASS;
      case 'malformed':
      case 'disallowed':
        this.stats.error.inc();
        return CLOSE;
      case 'header':
        (r.version === 1 ? this.stats.v1 : this.stats.v2).inc();
        if (r.addresses !== null) setProxiedAddresses(socket, r.addresses);
        return { status: ListenerFilterStatus.Continue, consumed: r.length };
    }
  }

  timedOut(): void {
    this.stats.timeout.inc();
  }
}
