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
    const kb = packr.pack(k);
    const vb = packr.pack(fields[k]);
    parts.push(kb, vb);
    size += kb.length + vb.length;
  }
  const rk = packr.pack(rawKey);
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
