/**
 * Header maps for the filter chain (the `HeaderMap` contract in filter.ts). Fields live in two
 * parallel arrays, names (lower case) and values, in arrival order: that is what both codecs
 * hand over (an HTTP/1 head's lines, `node:http2`'s raw headers, each a flat
 * `[name, value, name, value, ...]` list), so building a map is one pass with no hashing, and
 * serializing is one pass back. Lookups scan; a request carries a few dozen fields at most,
 * and a scan that compares lengths first beats building a `Map` that most requests never read.
 *
 * Multi-valued fields stay separate entries, so a field is forwarded as it came. `get` joins
 * them with ", " except `set-cookie`, whose values cannot be joined (RFC 9110 5.3): `get`
 * gives its first value and `getAll` every one.
 *
 * Pseudo-headers are not fields: `:method`, `:path`, `:scheme` and `:status` become
 * properties. `:authority` and `host` are one field, kept as `host` (HTTP/1 spelling) where it
 * arrived; `serializeH2` turns it back into `:authority`.
 */
import type { HeaderMap, RequestHeaders, ResponseHeaders } from './filter.js';

const SET_COOKIE = 'set-cookie';
const HOST = 'host';

export class HeaderMapImpl implements HeaderMap {
  protected readonly names: string[] = [];
  protected readonly values: string[] = [];

  /** Appends the fields of a flat list, lower-casing names; pseudo-headers go to `pseudo`. */
  protected load(flat: readonly string[], pseudo?: (name: string, value: string) => void): void {
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const name = flat[i] as string;
      const value = flat[i + 1] as string;
      if (name.charCodeAt(0) === 58 /* ':' */) pseudo?.(name, value);
      else this.push(name.toLowerCase(), value);
    }
  }

  protected push(name: string, value: string): void {
    this.names.push(name);
    this.values.push(value);
  }

  protected indexOf(name: string, from = 0): number {
    const names = this.names;
    const len = name.length;
    for (let i = from; i < names.length; i++) {
      const n = names[i] as string;
      if (n.length === len && n === name) return i;
    }
    return -1;
  }

  get(name: string): string | undefined {
    const key = name.toLowerCase();
    const first = this.indexOf(key);
    if (first < 0) return undefined;
    if (key === SET_COOKIE) return this.values[first];
    let out = this.values[first] as string;
    for (let i = this.indexOf(key, first + 1); i >= 0; i = this.indexOf(key, i + 1)) out += `, ${this.values[i] as string}`;
    return out;
  }

  getAll(name: string): readonly string[] {
    const key = name.toLowerCase();
    const out: string[] = [];
    for (let i = this.indexOf(key); i >= 0; i = this.indexOf(key, i + 1)) out.push(this.values[i] as string);
    return out;
  }

  has(name: string): boolean {
    return this.indexOf(name.toLowerCase()) >= 0;
  }

  /** The first value keeps its place (so `host` stays where it was); later ones go. */
  set(name: string, value: string): void {
    const key = name.toLowerCase();
    const first = this.indexOf(key);
    if (first < 0) {
      this.push(key, value);
      return;
    }
    this.values[first] = value;
    this.removeFrom(key, first + 1);
  }

  add(name: string, value: string): void {
    this.push(name.toLowerCase(), value);
  }

  remove(name: string): void {
    this.removeFrom(name.toLowerCase(), 0);
  }

  private removeFrom(key: string, from: number): void {
    let w = from;
    for (let r = from; r < this.names.length; r++) {
      if (this.names[r] === key) continue;
      this.names[w] = this.names[r] as string;
      this.values[w] = this.values[r] as string;
      w++;
    }
    this.names.length = w;
    this.values.length = w;
  }

  forEach(fn: (name: string, value: string) => void): void {
    for (let i = 0; i < this.names.length; i++) fn(this.names[i] as string, this.values[i] as string);
  }

  /** How many field lines (a multi-valued field counts once per value). */
  get size(): number {
    return this.names.length;
  }

  /** The fields as a flat `[name, value, ...]` list, in order, names lower case. */
  serialize(): string[] {
    return this.appendTo([], null);
  }

  protected appendTo(out: string[], skip: string | null): string[] {
    for (let i = 0; i < this.names.length; i++) {
      const n = this.names[i] as string;
      if (skip !== null && n === skip) continue;
      out.push(n, this.values[i] as string);
    }
    return out;
  }

  /** Trailers, or any map of plain fields (pseudo-headers in `flat` are dropped). */
  static fromFlat(flat: readonly string[]): HeaderMapImpl {
    const m = new HeaderMapImpl();
    m.load(flat);
    return m;
  }
}

/** What the HTTP/1 request line gives (HTTP/2 carries the same as pseudo-headers). */
export interface RequestLine {
  readonly method: string;
  readonly path: string;
  readonly scheme: 'http' | 'https';
}

export class RequestHeaderMap extends HeaderMapImpl implements RequestHeaders {
  method = '';
  path = '';
  scheme: 'http' | 'https' = 'http';

  get authority(): string {
    return this.get(HOST) ?? '';
  }

  set authority(value: string) {
    this.set(HOST, value);
  }

  /**
   * From a flat list: an HTTP/1 head's fields plus its request line, or `node:http2`'s raw
   * headers (pseudo-headers included; `line` may then be omitted). A `:authority` is stored as
   * the `host` field, first; a `host` field that repeats it is dropped (RFC 9113 8.3.1: both
   * must then be the same, and the codec refuses a request where they differ).
   */
  static override fromFlat(flat: readonly string[], line?: RequestLine): RequestHeaderMap {
    const m = new RequestHeaderMap();
    if (line !== undefined) {
      m.method = line.method;
      m.path = line.path;
      m.scheme = line.scheme;
    }
    let authority: string | null = null;
    m.load(flat, (name, value) => {
      if (name === ':method') m.method = value;
      else if (name === ':path') m.path = value;
      else if (name === ':scheme') m.scheme = value === 'https' ? 'https' : 'http';
      else if (name === ':authority') authority = value;
    });
    if (authority !== null) {
      m.remove(HOST);
      m.names.unshift(HOST);
      m.values.unshift(authority);
    }
    return m;
  }

  /** The fields for an HTTP/1 head (the request line is `method`, `path`). */
  serializeH1(): string[] {
    return this.serialize();
  }

  /** `node:http2` raw headers: pseudo-headers first, `host` as `:authority`. */
  serializeH2(): string[] {
    const out = [':method', this.method, ':scheme', this.scheme, ':path', this.path];
    const host = this.get(HOST);
    if (host !== undefined) out.push(':authority', host);
    return this.appendTo(out, HOST);
  }
}

export class ResponseHeaderMap extends HeaderMapImpl implements ResponseHeaders {
  status: number;

  constructor(status = 200) {
    super();
    this.status = status;
  }

  /** From a flat list; `status` is the HTTP/1 status line's, or read from `:status`. */
  static override fromFlat(flat: readonly string[], status?: number): ResponseHeaderMap {
    const m = new ResponseHeaderMap(status ?? 200);
    m.load(flat, (name, value) => {
      if (name === ':status') m.status = Number(value);
    });
    return m;
  }

  serializeH1(): string[] {
    return this.serialize();
  }

  serializeH2(): string[] {
    return this.appendTo([':status', String(this.status)], null);
  }
}
