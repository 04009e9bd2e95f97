/**
 * MurmurHash3 x86_32 over the UTF-8 bytes of a string: the hash of ring points, Maglev
 * permutations and request keys (a header value, a cookie, the source IP).
 *
 * UTF-8 rather than UTF-16 code units so the published test vectors apply and a key hashes the
 * same as its bytes on the wire would. The bytes are made on the fly from `charCodeAt`, with
 * no Buffer or TextEncoder and so no allocation per call; a lone surrogate hashes as U+FFFD,
 * as `Buffer.from(s, 'utf8')` encodes it.
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

/** The body step: one little-endian 32-bit block into the state. */
function mixBlock(h: number, k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  h ^= Math.imul(k, C2);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** MurmurHash3 x86_32 of `s`'s UTF-8 bytes with `seed`; unsigned. */
export function murmur3(s: string, seed: number): number {
  let h = seed | 0;
  let block = 0; // bytes gathered for the next block, little-endian
  let shift = 0; // bits of `block` filled: 0, 8, 16 or 24
  let bytes = 0;
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      // ASCII: one byte, no packing (nearly every key).
      block |= c << shift;
      bytes++;
      if (shift === 24) {
        h = mixBlock(h, block);
        block = 0;
        shift = 0;
      } else shift += 8;
      continue;
    }
    // The code point's UTF-8 bytes packed little-endian into `seq`, `len` of them.
    let seq: number;
    let len: number;
    if (c < 0x800) {
      seq = (0xc0 | (c >> 6)) | ((0x80 | (c & 0x3f)) << 8);
      len = 2;
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      const cp = 0x10000 + ((c - 0xd800) << 10) + (s.charCodeAt(++i) - 0xdc00);
      seq = (0xf0 | (cp >> 18)) | ((0x80 | ((cp >> 12) & 0x3f)) << 8) | ((0x80 | ((cp >> 6) & 0x3f)) << 16) | ((0x80 | (cp & 0x3f)) << 24);
      len = 4;
    } else {
      const cp = c >= 0xd800 && c <= 0xdfff ? 0xfffd : c;
      seq = (0xe0 | (cp >> 12)) | ((0x80 | ((cp >> 6) & 0x3f)) << 8) | ((0x80 | (cp & 0x3f)) << 16);
      len = 3;
    }
    bytes += len;
    for (let j = 0; j < len; j++) {
      block |= ((seq >>> (j * 8)) & 0xff) << shift;
      if (shift === 24) {
        h = mixBlock(h, block);
        block = 0;
        shift = 0;
      } else shift += 8;
    }
  }
  if (shift !== 0) {
    let k = Math.imul(block, C1);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, C2);
  }
  h ^= bytes;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The request-key and ring-point hash: `murmur3(s, 0)`, in 0..2^32-1. */
export function hash32(s: string): number {
  return murmur3(s, 0);
}
