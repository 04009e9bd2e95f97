/**
 * Message-body framing. The proxy forwards body bytes exactly as received; it only needs to
 * know where a message ends. `BodyFramer.feed` walks a buffer range and says so, decoding
 * chunked framing strictly (RFC 9112 7.1): hex sizes, extensions up to CRLF, CRLF after each
 * chunk's data, trailer lines, a final blank line. Bare LF anywhere is an error.
 */

export const enum BodyMode {
  /** No body (HEAD responses, 1xx/204/304, requests without CL or TE). */
  None = 0,
  Length = 1,
  Chunked = 2,
  /** Response delimited by the upstream closing the connection. */
  UntilClose = 3,
}

/** `feed` results other than an end offset. */
export const NEED_MORE = -1;
export const BAD_FRAMING = -2;

const enum C {
  Size0,
  Size,
  /** Whitespace after the size: only more of it, ';' or CR may follow. */
  SizeBws,
  Ext,
  SizeLf,
  Data,
  DataCr,
  DataLf,
  TrailerStart,
  TrailerName,
  Trailer,
  TrailerLf,
  EndLf,
}

/** 2^40: no real chunk is a terabyte; refusing keeps the arithmetic exact. */
const MAX_CHUNK = 2 ** 40;

/** tchar (RFC 9110 5.6.2), for trailer field names. */
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 48; c <= 57; c++) TCHAR[c] = 1;
for (let c = 65; c <= 90; c++) TCHAR[c] = 1;
for (let c = 97; c <= 122; c++) TCHAR[c] = 1;

/** Hex digit value by byte, -1 if not a hex digit. */
const HEX = new Int8Array(256).fill(-1);
for (let i = 0; i < 10; i++) HEX[48 + i] = i;
for (let i = 0; i < 6; i++) {
  HEX[65 + i] = 10 + i;
  HEX[97 + i] = 10 + i;
}

export class BodyFramer {
  mode: BodyMode = BodyMode.None;
  /** Bytes left in a Length body or the current chunk. */
  remaining = 0;
  /**
   * Set to receive the payload of a chunked body without its framing (HTTP/2 downstream):
   * called with each run of chunk data as `feed` walks it. Null forwards framing untouched.
   */
  sink: ((buf: Buffer, start: number, end: number) => void) | null = null;
  private state: C = C.Size0;

  reset(mode: BodyMode, length: number): void {
    this.mode = mode;
    this.remaining = length;
    this.state = C.Size0;
  }

  /**
   * Consumes buf[pos, end). Returns the offset just past the end of the message if it ends
   * inside the range, NEED_MORE if the whole range belongs to the body, or BAD_FRAMING.
   */
  feed(buf: Buffer, pos: number, end: number): number {
    switch (this.mode) {
      case BodyMode.None:
        return pos;
      case BodyMode.Length: {
        const n = end - pos;
        if (n < this.remaining) {
          this.remaining -= n;
          return NEED_MORE;
        }
        const done = pos + this.remaining;
        this.remaining = 0;
        return done;
      }
      case BodyMode.UntilClose:
        return NEED_MORE;
      default:
        return this.chunked(buf, pos, end);
    }
  }

  /** True when a Length body has nothing left (so a zero-length body ends at once). */
  get lengthDone(): boolean {
    return this.mode === BodyMode.Length && this.remaining === 0;
  }

  private chunked(buf: Buffer, p: number, end: number): number {
    let s = this.state;
    while (p < end) {
      const b = buf[p] as number;
      switch (s) {
        case C.Size0: {
          const v = HEX[b] as number;
          if (v < 0) return BAD_FRAMING;
          this.remaining = v;
          s = C.Size;
          p++;
          break;
        }
        case C.Size: {
          const v = HEX[b] as number;
          if (v >= 0) {
            this.remaining = this.remaining * 16 + v;
            if (this.remaining > MAX_CHUNK) return BAD_FRAMING;
          } else if (b === 13) s = C.SizeLf;
          else if (b === 59) s = C.Ext;
          else if (b === 32 || b === 9) s = C.SizeBws;
          else return BAD_FRAMING;
          p++;
          break;
        }
        case C.SizeBws:
          // BWS may only precede ';' (RFC 9112 7.1.1): "1 1" is not size 1 with an extension
          // "1", it is a size another parser may read as 0x11.
          if (b === 59) s = C.Ext;
          else if (b === 13) s = C.SizeLf;
          else if (b !== 32 && b !== 9) return BAD_FRAMING;
          p++;
          break;
        case C.Ext:
          if (b === 13) s = C.SizeLf;
          else if ((b < 32 && b !== 9) || b === 127) return BAD_FRAMING;
          p++;
          break;
        case C.SizeLf:
          if (b !== 10) return BAD_FRAMING;
          s = this.remaining === 0 ? C.TrailerStart : C.Data;
          p++;
          break;
        case C.Data: {
          // Skip the chunk's data in one step: no per-byte work on payload.
          const n = Math.min(this.remaining, end - p);
          if (this.sink !== null && n > 0) this.sink(buf, p, p + n);
          p += n;
          this.remaining -= n;
          if (this.remaining === 0) s = C.DataCr;
          break;
        }
        case C.DataCr:
          if (b !== 13) return BAD_FRAMING;
          s = C.DataLf;
          p++;
          break;
        case C.DataLf:
          if (b !== 10) return BAD_FRAMING;
          s = C.Size0;
          p++;
          break;
        case C.TrailerStart:
          // A trailer line is a field line (RFC 9112 7.1.2): token ':' value. Anything else
          // (DEL or a space first, no colon) is forwarded as bytes the next hop may misread.
          if (b === 13) s = C.EndLf;
          else if (TCHAR[b] === 1) s = C.TrailerName;
          else return BAD_FRAMING;
          p++;
          break;
        case C.TrailerName:
          if (b === 58) s = C.Trailer;
          else if (TCHAR[b] !== 1) return BAD_FRAMING;
          p++;
          break;
        case C.Trailer:
          if (b === 13) s = C.TrailerLf;
          else if ((b < 32 && b !== 9) || b === 127) return BAD_FRAMING;
          p++;
          break;
        case C.TrailerLf:
          if (b !== 10) return BAD_FRAMING;
          s = C.TrailerStart;
          p++;
          break;
        case C.EndLf:
          if (b !== 10) return BAD_FRAMING;
          this.state = C.Size0;
          return p + 1;
      }
    }
    this.state = s;
    return NEED_MORE;
  }
}
