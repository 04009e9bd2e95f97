/**
 * One TCP check: connect (over TLS when the cluster has it); with `send`, write those bytes;
 * with `expect`, pass once every expected byte string has appeared somewhere in what the host
 * sent, in any order. Without either, the connect is the check. The socket is closed when the
 * check ends either way: each check uses a new connection.
 */
import type { TcpHealthCheckConfig } from '../../config/types-cluster.js';
import type { UpstreamTlsSnapshot } from '../../proxy/tls/types.js';
import type { CheckTarget } from '../types.js';
import { CheckSocket, failure } from './connect.js';
import { PASSED, type CheckOutcome, type Probe, type ProbeRun } from './types.js';

/** What is kept of the host's answer; a host that sends more without matching fails. */
export const MAX_RECEIVED = 64 * 1024;

const MATCHED: CheckOutcome = Object.freeze({ pass: true, degraded: false, network: false, reason: 'matched' });

/** The config's hex strings as bytes, decoded once. */
interface TcpBytes {
  readonly send: Buffer | null;
  readonly expect: readonly Buffer[];
}

export class TcpProbe implements Probe {
  private readonly bytes: TcpBytes;

  constructor(
    config: TcpHealthCheckConfig,
    private readonly tls: UpstreamTlsSnapshot | null,
  ) {
    this.bytes = { send: config.send === null ? null : Buffer.from(config.send, 'hex'), expect: config.expect.map((e) => Buffer.from(e, 'hex')) };
  }

  start(target: CheckTarget, done: (outcome: CheckOutcome) => void): ProbeRun {
    return new TcpRun(new CheckSocket(target, this.tls), this.bytes, done);
  }
}

class TcpRun implements ProbeRun {
  private finished = false;
  private received = Buffer.alloc(0);
  /** The expected strings not seen yet. */
  private missing: readonly Buffer[];

  constructor(
    private readonly conn: CheckSocket,
    private readonly config: TcpBytes,
    private readonly done: (outcome: CheckOutcome) => void,
  ) {
    this.missing = config.expect;
    const s = conn.socket;
    s.once(conn.readyEvent, this.onReady);
    s.on('error', this.onError);
    s.once('close', this.onClose);
    if (this.missing.length > 0) s.on('data', this.onData);
  }

  cancel(): void {
    this.finished = true;
    this.conn.destroy();
  }

  private finish(outcome: CheckOutcome): void {
    if (this.finished) return;
    this.finished = true;
    this.conn.destroy();
    this.done(outcome);
  }

  private readonly onReady = (): void => {
    const send = this.config.send;
    if (send !== null) this.conn.socket.write(send, this.onSent);
    else if (this.missing.length === 0) this.finish(PASSED);
  };

  private readonly onSent = (err?: Error | null): void => {
    // A failed write also emits 'error', which reports it.
    if (err == null && this.missing.length === 0) this.finish(PASSED);
  };

  private readonly onData = (chunk: Buffer): void => {
    if (this.finished) return;
    if (this.received.length + chunk.length > MAX_RECEIVED) {
      this.finish(failure('unexpected answer', false));
      return;
    }
    this.received = Buffer.concat([this.received, chunk]);
    const received = this.received;
    this.missing = this.missing.filter((want) => received.indexOf(want) < 0);
    if (this.missing.length === 0) this.finish(MATCHED);
  };

  private readonly onError = (err: Error): void => {
    this.finish(this.conn.failure(err));
  };

  private readonly onClose = (): void => {
    this.finish(failure('closed', true));
  };
}
