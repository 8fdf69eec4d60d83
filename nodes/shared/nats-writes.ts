/**
 * Coalesces a NATS connection's socket writes. nats.js flushes its outbound buffer on a
 * microtask after the first message of a burst, so a process answering many requests makes
 * one `write` syscall per few messages (18–25% of the control plane's CPU in the scale
 * benchmark's profiles). Here the flush waits for the end of the current event-loop turn
 * (setImmediate): every message queued during the turn goes out in one write. A buffer that
 * reaches WRITE_THRESHOLD_BYTES is flushed at once, and `flush()` (PING) flushes everything
 * queued, as before.
 */
import type { NatsConnection } from 'nats';

/** The parts of nats.js' internal ProtocolHandler this relies on (checked at run time). */
interface ProtocolInternals {
  outbound: { fill(buf: Uint8Array, ...payloads: Uint8Array[]): void; size(): number };
  pendingLimit: number;
  flushPending(): void;
  sendCommand(cmd: string | Uint8Array, ...payloads: Uint8Array[]): void;
}

const encoder = new TextEncoder();

/**
 * Buffered bytes that are written at once rather than at the end of the turn. nats.js' own is
 * 32 KiB: the API server answering 200 requests in a turn then made ~10 writes, and socket
 * writes were 11% of its CPU in the api bench profile; at 256 KiB they are 4.5%.
 */
export const WRITE_THRESHOLD_BYTES = 256 * 1024;

/** True when the connection's writes are now coalesced; false (left as it was) when nats.js' internals are not as expected. */
export function coalesceWrites(nc: NatsConnection): boolean {
  const proto = (nc as unknown as { protocol?: Partial<ProtocolInternals> }).protocol;
  if (!proto || typeof proto.sendCommand !== 'function' || typeof proto.flushPending !== 'function' || typeof proto.outbound?.fill !== 'function' || typeof proto.outbound.size !== 'function') return false;
  const p = proto as ProtocolInternals;
  p.pendingLimit = Math.max(p.pendingLimit, WRITE_THRESHOLD_BYTES);
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    p.flushPending();
  };
  p.sendCommand = (cmd, ...payloads) => {
    p.outbound.fill(typeof cmd === 'string' ? encoder.encode(cmd) : cmd, ...payloads);
    if (p.outbound.size() >= p.pendingLimit) p.flushPending();
    else if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
  return true;
}
