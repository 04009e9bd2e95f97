/**
 * The part of `usocket` (CommonJS, no bundled types) that proxyctl uses. Read
 * node_modules/usocket/index.js before widening this: several documented methods
 * (unshift with fds, for one) do not work as their README says.
 */
declare module 'usocket' {
  import { Duplex } from 'node:stream';
  import { EventEmitter } from 'node:events';

  export interface USocketWrite {
    data?: Buffer;
    /** Sent with the first sendmsg that carries `data`; the sender keeps its own copies. */
    fds?: number[];
    callback?: (chunk: USocketWrite) => void;
  }

  export class USocket extends Duplex {
    constructor(opts?: string | { path?: string; fd?: number });
    /** The socket's own fd, set once connected (or at once for an adopted fd). */
    fd?: number;
    connect(path: string | { path?: string; fd?: number }, cb?: () => void): void;
    write(chunk: USocketWrite | Buffer, cb?: (err?: Error | null) => void): boolean;
    /**
     * Two-argument form: `size` bytes (null: all buffered data) plus `fdSize` queued fds
     * (null: all of them). Returns null once the socket is closed.
     */
    read(size: number | null, fdSize: number | null): { data: Buffer | null; fds: number[] } | null;
    read(size?: number): Buffer | null;
    /** Closes the fd at once; emits nothing. */
    destroy(): this;
    on(event: 'connected', listener: () => void): this;
    on(event: 'fds', listener: (fds: number[]) => void): this;
    on(event: 'data', listener: (chunk: Buffer) => void): this;
    on(event: 'end', listener: () => void): this;
    on(event: 'error', listener: (err: Error) => void): this;
    on(event: 'close', listener: (err?: Error) => void): this;
    once(event: 'connected', listener: () => void): this;
    once(event: 'error', listener: (err: Error) => void): this;
    removeListener(event: string, listener: (...args: never[]) => void): this;
  }

  export class UServer extends EventEmitter {
    fd?: number;
    listening: boolean;
    listen(path: string, cb?: () => void): void;
    close(): void;
    pause(): void;
    resume(): void;
    on(event: 'listening', listener: () => void): this;
    on(event: 'connection', listener: (socket: USocket) => void): this;
    on(event: 'error', listener: (err: Error) => void): this;
    once(event: 'listening', listener: () => void): this;
    once(event: 'error', listener: (err: Error) => void): this;
  }
}
