/**
 * Bounded TCP load through a `tcp_proxy` listener to an echo backend: each lane opens a
 * connection, does `rounds` round trips of a numbered 64-byte message (each must come back
 * byte for byte before the next is sent), closes, and starts again. A connect error, a reset,
 * a close before the echo or different bytes is a failure, recorded with its cause.
 */
import { connect, type Socket } from 'node:net';

export interface TcpLoadResult {
  /** Round trips that came back whole. */
  echoes: number;
  /** Connections that did all their round trips and closed. */
  connections: number;
  failures: string[];
}

export class TcpLoad {
  #stopping = false;
  readonly #lanes: Promise<void>[] = [];
  readonly result: TcpLoadResult = { echoes: 0, connections: 0, failures: [] };

  constructor(
    private readonly port: number,
    private readonly rounds: number,
  ) {}

  start(lanes: number): this {
    for (let i = 0; i < lanes; i++) this.#lanes.push(this.#lane(i));
    return this;
  }

  async stop(): Promise<TcpLoadResult> {
    this.#stopping = true;
    await Promise.all(this.#lanes);
    return this.result;
  }

  async #lane(lane: number): Promise<void> {
    let n = 0;
    while (!this.#stopping) {
      try {
        await this.#connection(lane, n++);
        this.result.connections++;
      } catch (err: unknown) {
        this.result.failures.push(`tcp ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
    }
  }

  async #connection(lane: number, n: number): Promise<void> {
    const socket = connect(this.port, '127.0.0.1');
    const reader = new EchoReader(socket);
    try {
      await reader.connected;
      for (let i = 0; i < this.rounds; i++) {
        const message = Buffer.from(`lane ${lane} connection ${n} round ${i} `.padEnd(64, '.'));
        socket.write(message);
        const back = await reader.read(message.length);
        if (!back.equals(message)) throw new Error(`echo differs: sent ${JSON.stringify(message.toString())}, got ${JSON.stringify(back.toString())}`);
        this.result.echoes++;
      }
      socket.end();
      await reader.closed;
    } finally {
      socket.destroy();
    }
  }
}

/** Reads exact byte counts from a socket; rejects if it errors or closes first. */
class EchoReader {
  readonly connected: Promise<void>;
  readonly closed: Promise<void>;
  #buf: Buffer = Buffer.alloc(0);
  #error: Error | null = null;
  #ended = false;
  #wake: (() => void) | null = null;

  constructor(socket: Socket) {
    this.connected = new Promise((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (d: Buffer) => {
      this.#buf = this.#buf.length === 0 ? d : Buffer.concat([this.#buf, d]);
      this.#wake?.();
    });
    socket.on('error', (err: Error) => {
      this.#error = err;
      this.#wake?.();
    });
    socket.on('end', () => {
      this.#ended = true;
      this.#wake?.();
    });
  }

  async read(n: number): Promise<Buffer> {
    while (this.#buf.length < n) {
      if (this.#error !== null) throw this.#error;
      if (this.#ended) throw new Error(`closed by the proxy after ${this.#buf.length} of ${n} echoed bytes`);
      await new Promise<void>((resolve) => (this.#wake = resolve));
      this.#wake = null;
    }
    const out = this.#buf.subarray(0, n);
    this.#buf = this.#buf.subarray(n);
    return out;
  }
}
