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
