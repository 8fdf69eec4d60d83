/**
 * Docker's multiplexed log stream (containers without a TTY): frames of an 8-byte header
 * `[stream, 0, 0, 0, size (uint32 big-endian)]` followed by `size` bytes of stdout (1) or
 * stderr (2). Demultiplexed here into one text, in the order the engine wrote it, as
 * `kubectl logs` shows both streams together.
 */
import { StringDecoder } from 'node:string_decoder';

const HEADER = 8;

/** Incremental demultiplexer: feed chunks as they arrive, get text back (UTF-8 safe across chunks). */
export class LogDemuxer {
  private pending: Buffer = Buffer.alloc(0);
  private readonly decoder = new StringDecoder('utf8');

  push(chunk: Buffer): string {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const parts: Buffer[] = [];
    let pos = 0;
    while (this.pending.length - pos >= HEADER) {
      const size = this.pending.readUInt32BE(pos + 4);
      if (this.pending.length - pos - HEADER < size) break;
      parts.push(this.pending.subarray(pos + HEADER, pos + HEADER + size));
      pos += HEADER + size;
    }
    this.pending = this.pending.subarray(pos);
    return parts.length ? this.decoder.write(Buffer.concat(parts)) : '';
  }

  /** What is left at the end of the stream (an incomplete UTF-8 sequence, decoded leniently). */
  end(): string {
    return this.decoder.end();
  }
}

/** A whole multiplexed buffer to text. */
export function demuxLogs(buf: Buffer): string {
  const d = new LogDemuxer();
  return d.push(buf) + d.end();
}
