/** The one place messages are encoded for the wire (msgpack). */
import { Packr } from 'msgpackr';

// Plain maps only: objects decode to plain JS objects, never Maps or records with shared structures,
// so every process (and any other msgpack client) reads the same bytes the same way.
const packr = new Packr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });

export function encode(value: unknown): Uint8Array {
  return packr.pack(value);
}

/** Decodes bytes; throws on garbage (callers turn that into a BadRequest). */
export function decode<T = unknown>(bytes: Uint8Array): T {
  if (bytes.length === 0) throw new Error('empty message');
  return packr.unpack(bytes) as T;
}

/**
 * A copy of `s` that shares no memory with a decoded message. msgpackr's native decoder returns
 * the strings of one message as slices of one string of the whole message, and a template
 * literal over them is a rope pointing at those slices: a key kept for long (a pod's key in a
 * map, a label in an actor's context) kept its whole first message alive, ~1 KB a pod.
 * Strings under 13 characters are never slices nor ropes in V8: returned as they are.
 */
export function ownString(s: string): string {
  return s.length < 13 ? s : Buffer.from(s, 'utf8').toString('utf8');
}

/**
 * Encodes the map `{ ...fields, [rawKey]: <raw> }` where `raw` is already msgpack (an object
 * encoded once and sent in several envelopes: a watch event, a reply). Decodes exactly as
 * `encode({ ...fields, [rawKey]: decode(raw) })` does.
 */
export function encodeWithRaw(fields: Record<string, unknown>, rawKey: string, raw: Uint8Array): Uint8Array {
  const keys = Object.keys(fields);
  const count = keys.length + 1;
  const parts: Uint8Array[] = [];
  let size = 3;
  for (const k of keys) {
    const kb = packedScalar(k);
    const vb = packedScalar(fields[k]);
    parts.push(kb, vb);
    size += kb.length + vb.length;
  }
  const rk = packedScalar(rawKey);
  parts.push(rk, raw);
  size += rk.length + raw.length;
  const out = new Uint8Array(size);
  // map16, as msgpackr writes every plain object: the bytes are the ones encode() would give.
  out[0] = 0xde;
  out[1] = count >> 8;
  out[2] = count & 0xff;
  let at = 3;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * The envelopes' keys and values (`type: 'MODIFIED'`, `ok: true`) are a handful of short
 * strings and booleans: encoded once each (every watch event and reply carries them).
 */
const scalars = new Map<unknown, Uint8Array>();

function packedScalar(value: unknown): Uint8Array {
  let packed = scalars.get(value);
  if (packed) return packed;
  packed = packr.pack(value);
  if ((typeof value === 'boolean' || (typeof value === 'string' && value.length <= 32)) && scalars.size < 256) scalars.set(value, packed.slice());
  return packed;
}

/**
 * The msgpack of the map `bytes` with the string entry `key: value` added last to its map field
 * `field`, made by copying bytes instead of encoding: decodes as the decoded map with
 * `{ ...map[field], [key]: value }` does (and, for encode()'s output, gives encode()'s bytes).
 * The API server stores objects without metadata.resourceVersion (the KV revision is that) and
 * sends them out with it. Undefined when `bytes` is not such a map, or `field` already has `key`.
 */
export function withFieldEntry(bytes: Uint8Array, field: string, key: string, value: string): Uint8Array | undefined {
  const top = mapHeader(bytes, 0);
  if (!top) return undefined;
  let at = top.end;
  for (let i = 0; i < top.count; i++) {
    const isField = stringIs(bytes, at, field);
    at = skip(bytes, at);
    if (at < 0) return undefined;
    if (!isField) {
      at = skip(bytes, at);
      if (at < 0) return undefined;
      continue;
    }
    const inner = mapHeader(bytes, at);
    if (!inner) return undefined;
    let end = inner.end;
    for (let j = 0; j < inner.count; j++) {
      if (stringIs(bytes, end, key)) return undefined;
      end = skip(bytes, end);
      if (end >= 0) end = skip(bytes, end);
      if (end < 0) return undefined;
    }
    const count = inner.count + 1;
    const header = count <= 15 && inner.end - at === 1 ? [0x80 | count] : count <= 0xffff && inner.end - at <= 3 ? [0xde, count >> 8, count & 0xff] : [0xdf, count >>> 24, (count >> 16) & 0xff, (count >> 8) & 0xff, count & 0xff];
    const entry = packr.pack([key, value]).subarray(1); // a fixarray of two: its items are the entry
    const out = new Uint8Array(bytes.length - (inner.end - at) + header.length + entry.length);
    out.set(bytes.subarray(0, at), 0);
    out.set(header, at);
    let o = at + header.length;
    out.set(bytes.subarray(inner.end, end), o);
    o += end - inner.end;
    out.set(entry, o);
    out.set(bytes.subarray(end), o + entry.length);
    return out;
  }
  return undefined;
}

/** A map's entry count and where its entries start, when a map starts at `at`. */
function mapHeader(b: Uint8Array, at: number): { count: number; end: number } | undefined {
  const t = b[at];
  if (t >= 0x80 && t <= 0x8f) return { count: t & 0x0f, end: at + 1 };
  if (t === 0xde && at + 3 <= b.length) return { count: (b[at + 1] << 8) | b[at + 2], end: at + 3 };
  if (t === 0xdf && at + 5 <= b.length) return { count: readU32(b, at + 1), end: at + 5 };
  return undefined;
}

/** Whether a msgpack string equal to the ASCII `s` starts at `at`. */
function stringIs(b: Uint8Array, at: number, s: string): boolean {
  const t = b[at];
  let start = at + 1;
  let len = t & 0x1f;
  if (t === 0xd9) {
    start = at + 2;
    len = b[at + 1];
  } else if (t === 0xda) {
    start = at + 3;
    len = (b[at + 1] << 8) | b[at + 2];
  } else if (t < 0xa0 || t > 0xbf) return false;
  if (len !== s.length || start + len > b.length) return false;
  for (let i = 0; i < len; i++) if (b[start + i] !== s.charCodeAt(i)) return false;
  return true;
}

function readU32(b: Uint8Array, at: number): number {
  return ((b[at] << 24) >>> 0) + (b[at + 1] << 16) + (b[at + 2] << 8) + b[at + 3];
}

/** Where the msgpack value starting at `at` ends; -1 when the bytes end first or hold no valid type. */
function skip(b: Uint8Array, at: number): number {
  let items = 1;
  while (items > 0) {
    if (at >= b.length) return -1;
    const t = b[at];
    items--;
    if (t <= 0x7f || t >= 0xe0 || t === 0xc0 || t === 0xc2 || t === 0xc3) at += 1;
    else if (t <= 0x8f) {
      at += 1;
      items += 2 * (t & 0x0f);
    } else if (t <= 0x9f) {
      at += 1;
      items += t & 0x0f;
    }
    else if (t <= 0xbf) at += 1 + (t & 0x1f);
    else if (t === 0xc4 || t === 0xd9) at += 2 + (b[at + 1] ?? 0);
    else if (t === 0xc5 || t === 0xda) at += 3 + (((b[at + 1] ?? 0) << 8) | (b[at + 2] ?? 0));
    else if (t === 0xc6 || t === 0xdb) at += at + 5 <= b.length ? 5 + readU32(b, at + 1) : b.length;
    else if (t === 0xc7) at += 3 + (b[at + 1] ?? 0);
    else if (t === 0xc8) at += 4 + (((b[at + 1] ?? 0) << 8) | (b[at + 2] ?? 0));
    else if (t === 0xc9) at += at + 5 <= b.length ? 6 + readU32(b, at + 1) : b.length;
    else if (t === 0xca) at += 5;
    else if (t === 0xcb) at += 9;
    else if (t === 0xcc || t === 0xd0) at += 2;
    else if (t === 0xcd || t === 0xd1) at += 3;
    else if (t === 0xce || t === 0xd2) at += 5;
    else if (t === 0xcf || t === 0xd3) at += 9;
    else if (t >= 0xd4 && t <= 0xd8) at += 2 + (1 << (t - 0xd4));
    else if (t === 0xdc || t === 0xde) {
      if (at + 3 > b.length) return -1;
      const n = (b[at + 1] << 8) | b[at + 2];
      at += 3;
      items += t === 0xde ? 2 * n : n;
    } else if (t === 0xdd || t === 0xdf) {
      if (at + 5 > b.length) return -1;
      const n = readU32(b, at + 1);
      at += 5;
      items += t === 0xdf ? 2 * n : n;
    } else return -1; // 0xc1: never used
  }
  return at <= b.length ? at : -1;
}
