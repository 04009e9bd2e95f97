/**
 * Resetting a downstream stream so the client sees a broken response, never a complete one.
 *
 * Node's `Http2Stream.close(code)` ends the writable side before it submits RST_STREAM. With
 * no write in flight, that end runs at once and nghttp2 sends the pending DATA with END_STREAM
 * first: the client reads a response cut short as complete when it has no content-length
 * (`respond(); write(100 B); close(INTERNAL_ERROR)` arrives as 100 bytes and a clean end on
 * Node 20.20), or reports its own PROTOCOL_ERROR when it has one. A write still in flight
 * holds the end back, so RST_STREAM goes out first and the end is never sent: the empty write
 * below is that write (checked with node:http2 clients: rstCode INTERNAL_ERROR, no 'end').
 */
import { constants, type ServerHttp2Stream } from 'node:http2';

const EMPTY = Buffer.alloc(0);

export function resetStream(stream: ServerHttp2Stream, code: number = constants.NGHTTP2_INTERNAL_ERROR): void {
  if (stream.destroyed) return;
  if (stream.headersSent && !stream.writableEnded) stream.write(EMPTY);
  stream.close(code);
}
