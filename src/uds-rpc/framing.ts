/**
 * Wire format of the hot-restart RPC (stream Unix-domain socket, fds via SCM_RIGHTS).
 *
 *   offset  size  field
 *   0       4     payload length in bytes, u32 big-endian, at most MAX_PAYLOAD_BYTES
 *   4       1     kind: 0 = request, 1 = response
 *   5       1     fd count: fds that travel with this frame, at most MAX_FDS_PER_FRAME
 *   6       2     reserved, must be 0 (a later protocol version may give it meaning)
 *   8       4     request id, u32 big-endian, never 0
 *   12      n     payload: UTF-8 JSON (a request message, or a ReplyPayload for a response)
 *
 * Sizes. 64 KiB of JSON is far more than any control message needs, and a peer that announces
 * more is refused from the header alone, before a byte of payload is buffered: nothing large is
 * ever allocated on a peer's say-so. 64 fds per frame is the receive buffer usocket gives
 * recvmsg (CMSG_SPACE(64 * sizeof(int))); more would be truncated by the kernel (MSG_CTRUNC)
 * and silently lost. The kernel's own cap, SCM_MAX_FD, is 253.
 *
 * How fds travel. A frame is written with one sendmsg carrying header, payload and its fds.
 * On Linux the fds arrive with the recvmsg that returns the frame's first byte, and a recvmsg
 * never reads past a message that carried fds, so the receiver sees a frame's fds no later
 * than the frame's first byte and never before any earlier frame's bytes. The receiver keeps
 * the fds in arrival order and, as each frame completes, takes as many as its header
 * announced. Two checks keep the pairing honest: a completed frame that announced k fds finds
 * at least k queued, and once every buffered byte belongs to a completed frame, no fd is left
 * over. Either failure is a protocol error: every unclaimed fd is closed and so is the
 * connection.
 *
 * How replies pair with requests. Each side numbers its own requests (1, 2, … wrapping past
 * 2^32-1 back to 1) and the response echoes the id. Both sides may send requests on one
 * connection, so ids are only unique per sender; the kind byte says whose id it is. A response
 * whose id has no pending request (its deadline passed) is discarded and its fds closed.
 */
import { closeSync } from 'node:fs';
import { ProxyctlError } from '../errors.js';

export const HEADER_BYTES = 12;
export const MAX_PAYLOAD_BYTES = 64 * 1024;
export const MAX_FDS_PER_FRAME = 64;
export const MAX_REQUEST_ID = 0xffff_ffff;

export const FrameKind = { REQUEST: 0, RESPONSE: 1 } as const;
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

/** A complete frame with the fds that were paired to it; the fds now belong to whoever takes it. */
export interface DecodedFrame {
  kind: FrameKind;
  id: number;
  payload: Buffer;
  fds: number[];
}

function protocolError(message: string, details: Record<string, unknown>): ProxyctlError {
  return new ProxyctlError('PROXYCTL_ERR_RPC_PROTOCOL', message, details);
}

/** Builds one frame (header and payload in one Buffer, so one sendmsg carries both). */
export function encodeFrame(kind: FrameKind, id: number, payload: Buffer, fdCount: number): Buffer {
  if (payload.length > MAX_PAYLOAD_BYTES) {
    throw protocolError(`frame payload of ${payload.length} bytes exceeds ${MAX_PAYLOAD_BYTES}`, { reason: 'oversized', length: payload.length });
  }
  if (!Number.isInteger(fdCount) || fdCount < 0 || fdCount > MAX_FDS_PER_FRAME) {
    throw protocolError(`a frame carries at most ${MAX_FDS_PER_FRAME} fds, not ${fdCount}`, { reason: 'too-many-fds', fdCount });
  }
  if (!Number.isInteger(id) || id < 1 || id > MAX_REQUEST_ID) throw new RangeError(`request id out of range: ${id}`);
  const frame = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  frame.writeUInt32BE(payload.length, 0);
  frame.writeUInt8(kind, 4);
  frame.writeUInt8(fdCount, 5);
  frame.writeUInt16BE(0, 6);
  frame.writeUInt32BE(id, 8);
  payload.copy(frame, HEADER_BYTES);
  return frame;
}

export function encodeJsonFrame(kind: FrameKind, id: number, message: unknown, fdCount: number): Buffer {
  return encodeFrame(kind, id, Buffer.from(JSON.stringify(message), 'utf8'), fdCount);
}

/** Closes fds we received and nobody will own; a failure (already closed) changes nothing. */
export function closeFds(fds: readonly number[]): void {
  for (const fd of fds) {
    try {
      closeSync(fd);
    } catch {
      // EBADF: it is gone already, which is what we wanted.
    }
  }
}

/**
 * Incremental decoder: feed it whatever the socket returned, get back completed frames with
 * their fds. It throws PROXYCTL_ERR_RPC_PROTOCOL on any violation; the caller then closes
 * `takeUnclaimedFds()` and the connection. After a throw the decoder is poisoned.
 */
export class FrameDecoder {
  /** Bytes of the frame in progress (never more than one frame's worth). */
  private pending: Buffer = Buffer.alloc(0);
  /** Header of the frame in progress, checked as soon as its 12 bytes are here. */
  private header: { length: number; kind: FrameKind; fdCount: number; id: number } | null = null;
  private fdQueue: number[] = [];
  private failed: ProxyctlError | null = null;

  /** Bytes held for a frame that is not complete yet. */
  get bufferedBytes(): number {
    return this.pending.length;
  }

  get queuedFds(): number {
    return this.fdQueue.length;
  }

  /** Queues fds in arrival order; they are claimed by frames as those complete. */
  addFds(fds: readonly number[]): void {
    for (const fd of fds) this.fdQueue.push(fd);
  }

  /** Decodes `data` (which may be empty). Throws on a protocol violation. */
  push(data: Buffer): DecodedFrame[] {
    if (this.failed) throw this.failed;
    try {
      return this.decode(data);
    } catch (err: unknown) {
      this.failed = err instanceof ProxyctlError ? err : protocolError(String(err), { reason: 'decoder' });
      // The stream is unreadable from here on; keep nothing of it.
      this.pending = Buffer.alloc(0);
      this.header = null;
      throw this.failed;
    }
  }

  /**
   * Fails if fds are queued while no partial frame could claim them. Call it once every byte
   * that arrived with those fds has been pushed (after the socket's read callback returns).
   */
  checkStrayFds(): void {
    if (this.failed) throw this.failed;
    if (this.pending.length === 0 && this.fdQueue.length > 0) {
      this.failed = protocolError(`${this.fdQueue.length} fd(s) arrived that no frame announced`, { reason: 'fd-count', extra: this.fdQueue.length });
      throw this.failed;
    }
  }

  /** Hands over (for closing) every fd no frame has claimed, and forgets them. */
  takeUnclaimedFds(): number[] {
    const fds = this.fdQueue;
    this.fdQueue = [];
    return fds;
  }

  private decode(data: Buffer): DecodedFrame[] {
    const frames: DecodedFrame[] = [];
    try {
      this.decodeInto(data, frames);
    } catch (err: unknown) {
      // Frames completed in this call will never be delivered, so their fds are unclaimed again.
      this.fdQueue = frames.flatMap((frame) => frame.fds).concat(this.fdQueue);
      throw err;
    }
    return frames;
  }

  private decodeInto(data: Buffer, frames: DecodedFrame[]): void {
    // Wrap, don't copy: only a frame split across reads is ever concatenated.
    let buf = this.pending.length === 0 ? data : Buffer.concat([this.pending, data]);
    for (;;) {
      if (this.header === null) {
        if (buf.length < HEADER_BYTES) break;
        this.header = parseHeader(buf);
        // A frame cannot claim more fds than are here plus those that may still come with
        // its own bytes, but those arrive with its first byte, which is here already.
        if (this.header.fdCount > this.fdQueue.length) {
          throw protocolError(`frame announced ${this.header.fdCount} fd(s) but ${this.fdQueue.length} arrived`, { reason: 'fd-count', announced: this.header.fdCount, received: this.fdQueue.length });
        }
      }
      const total = HEADER_BYTES + this.header.length;
      if (buf.length < total) break;
      const { kind, id, fdCount } = this.header;
      frames.push({ kind, id, payload: buf.subarray(HEADER_BYTES, total), fds: this.fdQueue.splice(0, fdCount) });
      this.header = null;
      buf = buf.subarray(total);
    }
    // Copy the tail so a small remainder does not pin a large socket read in memory.
    this.pending = buf.length === 0 ? Buffer.alloc(0) : Buffer.from(buf);
    if (this.pending.length === 0 && this.fdQueue.length > 0) this.checkStrayFds();
  }
}

function parseHeader(buf: Buffer): { length: number; kind: FrameKind; fdCount: number; id: number } {
  const length = buf.readUInt32BE(0);
  const kind = buf.readUInt8(4);
  const fdCount = buf.readUInt8(5);
  const reserved = buf.readUInt16BE(6);
  const id = buf.readUInt32BE(8);
  if (length > MAX_PAYLOAD_BYTES) {
    throw protocolError(`frame announces ${length} payload bytes; the maximum is ${MAX_PAYLOAD_BYTES}`, { reason: 'oversized', length });
  }
  if (kind !== FrameKind.REQUEST && kind !== FrameKind.RESPONSE) throw protocolError(`unknown frame kind ${kind}`, { reason: 'bad-header', kind });
  if (fdCount > MAX_FDS_PER_FRAME) throw protocolError(`frame announces ${fdCount} fds; the maximum is ${MAX_FDS_PER_FRAME}`, { reason: 'too-many-fds', fdCount });
  if (reserved !== 0) throw protocolError(`reserved header bits set (${reserved})`, { reason: 'bad-header', reserved });
  if (id === 0) throw protocolError('request id 0 is not allowed', { reason: 'bad-header' });
  return { length, kind, fdCount, id };
}
