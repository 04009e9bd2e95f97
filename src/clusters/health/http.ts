/**
 * One HTTP/1.1 check: `GET <path>` on a new connection (TLS when the cluster has it) with
 * `Host: <host or the cluster's name>`, `user-agent: proxyctl-health-check` and
 * `connection: close`. It passes when the status is in one of the expected ranges, once the
 * body has been read (and discarded); a passing answer with `x-envoy-degraded` says degraded.
 * node:http is enough here: this is one request per host per interval, not the hot path.
 */
import { request, type ClientRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import type { Socket } from 'node:net';
import type { HttpHealthCheckConfig } from '../../config/types-cluster.js';
import type { UpstreamTlsSnapshot } from '../../proxy/tls/types.js';
import type { CheckTarget } from '../types.js';
import { CheckSocket, failure } from './connect.js';
import type { CheckOutcome, Probe, ProbeRun } from './types.js';

export const USER_AGENT = 'proxyctl-health-check';
export const DEGRADED_HEADER = 'x-envoy-degraded';

export class HttpProbe implements Probe {
  /** `hostHeader`: the config's `host`, or the cluster's name. */
  constructor(
    private readonly config: HttpHealthCheckConfig,
    private readonly hostHeader: string,
    private readonly tls: UpstreamTlsSnapshot | null,
  ) {}

  start(target: CheckTarget, done: (outcome: CheckOutcome) => void): ProbeRun {
    return new HttpRun(target, this, done);
  }

  passes(status: number): boolean {
    return this.config.expectedStatuses.some(([lo, hi]) => status >= lo && status <= hi);
  }

  /** Options of node:http's request; `createConnection` opens the check's own socket (no agent, no pooling). */
  requestOptions(createConnection: () => Socket): RequestOptions {
    return {
      method: 'GET',
      path: this.config.path,
      headers: { host: this.hostHeader, 'user-agent': USER_AGENT, connection: 'close' },
      createConnection,
    };
  }

  socketFor(target: CheckTarget): CheckSocket {
    return new CheckSocket(target, this.tls);
  }
}

class HttpRun implements ProbeRun {
  private finished = false;
  private conn: CheckSocket | null = null;
  private readonly req: ClientRequest;
  /** What the answer's head said; reported once the body has been read. */
  private verdict: CheckOutcome | null = null;

  constructor(
    private readonly target: CheckTarget,
    private readonly probe: HttpProbe,
    private readonly done: (outcome: CheckOutcome) => void,
  ) {
    // node:http calls createConnection synchronously, so `conn` is set once this returns.
    this.req = request(probe.requestOptions(this.connect));
    this.req.on('error', this.onError);
    this.req.once('response', this.onResponse);
    this.req.end();
  }

  cancel(): void {
    this.finished = true;
    this.req.destroy();
    this.conn?.destroy();
  }

  private finish(outcome: CheckOutcome): void {
    if (this.finished) return;
    this.finished = true;
    this.req.destroy();
    this.conn?.destroy();
    this.done(outcome);
  }

  private readonly connect = (): Socket => {
    this.conn = this.probe.socketFor(this.target);
    return this.conn.socket;
  };

  private readonly onResponse = (res: IncomingMessage): void => {
    const status = res.statusCode ?? 0;
    const pass = this.probe.passes(status);
    const degraded = pass && res.headers[DEGRADED_HEADER] !== undefined;
    this.verdict = { pass, degraded, network: false, reason: degraded ? `status ${status} degraded` : `status ${status}` };
    res.on('error', this.onError);
    res.once('end', this.onEnd);
    res.once('close', this.onResponseClose);
    res.resume();
  };

  private readonly onEnd = (): void => {
    if (this.verdict !== null) this.finish(this.verdict);
  };

  /** Closed before the body ended (after 'end', `finish` already ran and this does nothing). */
  private readonly onResponseClose = (): void => {
    this.finish(failure('reset', true));
  };

  private readonly onError = (err: Error): void => {
    const code = (err as NodeJS.ErrnoException).code;
    // A malformed answer is the host's fault, not the network's.
    if (typeof code === 'string' && code.startsWith('HPE_')) this.finish(failure('bad response', false));
    else this.finish(this.conn === null ? failure('error', true) : this.conn.failure(err));
  };
}
